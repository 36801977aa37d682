// ES2015+ syntax (let/const, arrow functions, template literals, spread, classes, destructuring, a top-level const).
class Reader {
  constructor(bytes) { this.bytes = [...bytes]; this.at = 0; }
  u8() { return this.bytes[this.at++]; }
  u16() { const [hi, lo] = this.bytes.slice(this.at, this.at + 2); this.at += 2; return (hi << 8) | lo; }
}
const decodeUplink = ({bytes, fPort, recvTime}) => {
  if (fPort !== 2) return {errors: [`unknown FPort ${fPort}`]};
  const r = new Reader(bytes);
  let temperature = r.u16() / 10;
  const {length} = bytes;
  const data = {temperature, label: `t=${temperature}`, length, isArray: bytes instanceof Array,
                isDate: recvTime instanceof Date, received: recvTime.toISOString()};
  return {data: {...data, extra: Math.max(...bytes)}, warnings: length > 2 ? ['trailing bytes'] : []};
};
