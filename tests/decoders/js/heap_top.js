// Exhausts the V8 heap at its top level, while it is compiled: loading it ends the worker.
const hoard = [];
for (;;) hoard.push(new Array(1 << 20).fill(1));  // 8 MB each, kept by the global
function decodeUplink({bytes}) {
  return {data: {counter: bytes[0]}};
}
