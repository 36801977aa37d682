// Returns 10 MB of text in data on FPort 1 (over the output limit); the first byte as `counter` on other FPorts.
function decodeUplink({fPort, bytes}) {
  if (fPort === 1) return {data: {text: 'x'.repeat(10 * 1024 * 1024)}};
  return {data: {counter: bytes[0]}};
}
