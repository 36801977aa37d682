// TS013 encodeDownlink (the codec picks FPort 7; errors without an interval) and decodeDownlink.
function encodeDownlink({data, fPort}) {
  if (typeof data.interval !== 'number') return {errors: ['interval: missing', `mode: ${data.mode}`]};
  return {bytes: [data.interval >> 8, data.interval & 0xff, fPort ?? 0], fPort: 7};
}

function decodeDownlink({bytes, fPort}) {
  return {data: {interval: (bytes[0] << 8) | bytes[1], fPort}};
}
