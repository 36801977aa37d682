// Loops forever on FPort 1 (the per-call time limit must stop it); the first byte as `counter` on other FPorts.
function decodeUplink({fPort, bytes}) {
  if (fPort === 1) {
    while (true) {}
  }
  return {data: {counter: bytes[0]}};
}
