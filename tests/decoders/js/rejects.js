// Makes its value reach the worker's own code as an exception: an unhandled rejected promise (FPort 1), a throwing setter on its global (FPort 2), a throwing getter on what it throws (FPort 4); FPort 3 reports whether its Error.prepareStackTrace got the worker's call sites; the first byte as `counter` on other FPorts.
let framesSeen = 'none';
Error.prepareStackTrace = (e, frames) => {
  framesSeen = frames instanceof Array ? 'own realm' : 'host realm';
  return 'x';
};
function decodeUplink({fPort, bytes}) {
  if (fPort === 1) {
    Promise.reject(new Error('nobody handles this'));
    return {data: {rejected: true}};
  }
  if (fPort === 2) {
    // The worker sets __schwebe_input before the call and clears it after: the clearing throws, once.
    let input;
    Object.defineProperty(globalThis, '__schwebe_input', {configurable: true, get() { return input; }, set(v) {
      if (v === undefined) {
        delete globalThis.__schwebe_input;
        throw new Error('from a setter');
      }
      input = v;
    }});
    return {data: {armed: true}};
  }
  if (fPort === 3) return {data: {framesSeen}};
  if (fPort === 4) {
    // The wrapper's JSON.stringify throws twice (the result, then the error): an object whose code getter throws.
    const original = JSON.stringify;
    let left = 2;
    JSON.stringify = function () {
      if (--left === 0) JSON.stringify = original;
      throw {get code() { throw new Error('from a getter'); }};
    };
    return {data: {}};
  }
  return {data: {counter: bytes[0]}};
}
