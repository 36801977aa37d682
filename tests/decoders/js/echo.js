// A fast codec for the tests that mix codecs: the first byte as `counter`, and the FPort.
function decodeUplink(input) {
  return {data: {counter: input.bytes[0], fPort: input.fPort}};
}
