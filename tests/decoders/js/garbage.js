// Garbage answers: undefined, a number, a circular object (decodeUplink by FPort); bytes out of range,
// undefined and a bad FPort (encodeDownlink by data.kind).
function decodeUplink(input) {
  switch (input.fPort) {
    case 1: return undefined;
    case 2: return 42;
    case 3: { const r = {data: {}}; r.data.self = r; return r; }
    default: return {data: {counter: input.bytes[0]}};
  }
}

function encodeDownlink({data}) {
  switch (data.kind) {
    case 'too big': return {bytes: [1, 300]};
    case 'negative': return {bytes: [-1]};
    case 'fraction': return {bytes: [7, 7, 1.5]};
    case 'text': return {bytes: ['a']};
    case 'no bytes': return {fPort: 2};
    case 'nothing': return undefined;
    case 'port 0': return {bytes: [1], fPort: 0};
    default: return {bytes: [1, 2, 255]};
  }
}
