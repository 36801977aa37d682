// Throws an Error on FPort 1, a string on FPort 2, objects that throw again when read on FPorts 3 and 4;
// the first byte as `counter` on other FPorts.
function decodeUplink(input) {
  if (input.fPort === 1) throw new Error('bad payload');
  if (input.fPort === 2) throw 'a string';
  if (input.fPort === 3) throw {get name() { throw new Error('again'); }};
  if (input.fPort === 4) throw Object.create(null);  // String() of it throws
  return {data: {counter: input.bytes[0]}};
}
