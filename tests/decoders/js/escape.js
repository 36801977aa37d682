// Tries to get out of its sandbox: a promise callback that loops (FPort 1), node's `process` through the
// constructor of console.log (FPort 2); the first byte as `counter` on other FPorts.
function decodeUplink({fPort, bytes}) {
  if (fPort === 1) Promise.resolve().then(() => { while (true) {} });
  if (fPort === 2) {
    let process = 'unreachable';
    try {
      process = typeof console.log.constructor('return process')();
    } catch (e) {
      process = 'unreachable';
    }
    return {data: {process}};
  }
  return {data: {counter: bytes[0]}};
}
