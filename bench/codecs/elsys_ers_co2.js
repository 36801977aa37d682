// The Elsys ERS CO2 payload (the Elsys common format: type byte, then that type's value) written as a TS013 codec
// in plain ES2015, for bench_codecs: the JavaScript path next to the native `elsys-ers-co2` codec of the same
// device. Covers the records an ERS CO2 sends; its output has the native codec's field names and values.
const RECORDS = {
  0x01: ['temperature', 2, (b, i) => ((b[i] << 24 >> 16) | b[i + 1]) / 10],
  0x02: ['humidity', 1, (b, i) => b[i]],
  0x04: ['light', 2, (b, i) => (b[i] << 8) | b[i + 1]],
  0x05: ['motion', 1, (b, i) => b[i]],
  0x06: ['co2', 2, (b, i) => (b[i] << 8) | b[i + 1]],
  0x07: ['vdd', 2, (b, i) => (b[i] << 8) | b[i + 1]],
  0x11: ['occupancy', 1, (b, i) => b[i]],
};

function decodeUplink({bytes}) {
  const data = {};
  for (let i = 0; i < bytes.length;) {
    const type = bytes[i++];
    const record = RECORDS[type];
    if (!record) return {errors: [`unknown record type 0x${type.toString(16)} at offset ${i - 1}`]};
    const [name, size, read] = record;
    if (i + size > bytes.length) return {errors: [`truncated: type 0x${type.toString(16)} needs ${size} bytes`]};
    data[name] = read(bytes, i);
    i += size;
  }
  return {data, warnings: []};
}

function normalizeUplink({data}) {
  return {data: {air: {temperature: data.temperature, relativeHumidity: data.humidity, co2: data.co2,
                       lightIntensity: data.light}}};
}
