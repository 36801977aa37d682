// Tries to reach node's process through Error.prepareStackTrace's call sites (FPort 1 throws, FPort 2 reports what it got).
Error.prepareStackTrace = (e, frames) => {
  try {
    globalThis.P = frames.constructor.constructor('return process')();
  } catch (x) {
    globalThis.P = 'blocked: ' + x;
  }
  return 'x';
};
function decodeUplink({fPort}) {
  if (fPort === 1) throw new Error('to format');
  return {data: {p: typeof P === 'object' && P !== null && typeof P.pid === 'number' ? 'ESCAPED' : String(P)}};
}
