// Exhausts the V8 heap on FPort 1 (its worker dies and is replaced); the first byte as `counter` on other FPorts.
const hoard = [];
function decodeUplink({fPort, bytes}) {
  if (fPort === 1) {
    for (;;) hoard.push(new Array(1 << 20).fill(fPort));  // 8 MB each, kept by the global
  }
  return {data: {counter: bytes[0]}};
}
