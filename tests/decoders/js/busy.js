// A slow codec: a busy loop of about 2 ms on Date.now(), then the first byte as `counter`.
function decodeUplink({bytes}) {
  const until = Date.now() + 2;
  while (Date.now() < until) {}
  return {data: {counter: bytes[0], slow: true}};
}
