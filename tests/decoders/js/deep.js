// Answers the pool must refuse without losing the worker: data nested bytes[0] levels deep (FPort 1), JSON.stringify replaced once by 1000 nested arrays (FPort 2) or by text that is not JSON (FPort 3), a lone UTF-16 surrogate (FPort 4); the first byte as `counter` on other FPorts.
function decodeUplink({fPort, bytes}) {
  if (fPort === 1) {
    let data = {};
    for (let i = 1; i < bytes[0]; i++) data = {n: data};
    return {data};
  }
  if (fPort === 2 || fPort === 3) {
    const original = JSON.stringify;
    JSON.stringify = function () {
      JSON.stringify = original;
      return fPort === 2 ? '['.repeat(1000) + ']'.repeat(1000) : 'not JSON';
    };
    return {data: {}};
  }
  if (fPort === 4) return {data: {text: 'a\ud800b'}};
  return {data: {counter: bytes[0]}};
}
