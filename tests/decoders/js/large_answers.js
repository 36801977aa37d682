// Large answers one after the other (back-pressure on the worker's output): about 40 ms of busy work, then 600 000 characters of text and the first byte as `counter`.
function decodeUplink({bytes}) {
  const until = Date.now() + 40;
  while (Date.now() < until) {}
  return {data: {counter: bytes[0], text: 'x'.repeat(600000)}};
}
