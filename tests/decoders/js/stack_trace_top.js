// Tries to reach node's process through Error.prepareStackTrace while its top level throws (loading it fails).
Error.prepareStackTrace = (e, frames) => {
  try {
    globalThis.P = frames.constructor.constructor('return process')();
  } catch (x) {
    globalThis.P = 'blocked: ' + x;
  }
  return 'x';
};
function decodeUplink() {
  return {data: {p: String(globalThis.P)}};
}
throw new Error('at the top level');
