// Netvox R719A configuration downlinks (TS013 encodeDownlink/decodeDownlink), written for the tests from the
// examples in tests/vectors/codec-examples/netvox-r719a.json: Cmd, device type 0x59, MinTime and MaxTime (s,
// big-endian u16), BatteryChange (0.1 V), zero padding to 11 bytes, FPort 7.
const DEVICE_TYPE = 0x59;
const FPORT = 7;
const LENGTH = 11;
const commands = {ConfigReportReq: 0x01, ReadConfigReportReq: 0x02};
const names = Object.fromEntries(Object.entries(commands).map(([name, id]) => [id, name]));
const u16 = (value) => [(value >> 8) & 0xff, value & 0xff];
const isU16 = (value) => Number.isInteger(value) && value >= 0 && value <= 0xffff;

function encodeDownlink({data}) {
  const cmd = commands[data.Cmd];
  if (cmd === undefined) return {errors: [`unknown Cmd ${data.Cmd}`]};
  if (data.Device !== 'R719A') return {errors: [`unknown Device ${data.Device}`]};
  const bytes = [cmd, DEVICE_TYPE];
  if (cmd === commands.ConfigReportReq) {
    const {MinTime, MaxTime, BatteryChange} = data;
    const battery = Math.round(BatteryChange * 10);
    if (!isU16(MinTime) || !isU16(MaxTime)) return {errors: ['MinTime and MaxTime: 0..65535 s']};
    if (!(battery >= 0 && battery <= 0xff)) return {errors: ['BatteryChange: 0..25.5 V']};
    bytes.push(...u16(MinTime), ...u16(MaxTime), battery);
  }
  while (bytes.length < LENGTH) bytes.push(0);
  return {bytes, fPort: FPORT};
}

function decodeDownlink({bytes, fPort}) {
  if (fPort !== FPORT) return {errors: [`unknown FPort ${fPort}`]};
  if (bytes.length !== LENGTH || bytes[1] !== DEVICE_TYPE) return {errors: ['not an R719A command']};
  const Cmd = names[bytes[0]];
  if (Cmd === undefined) return {errors: [`unknown Cmd 0x${bytes[0].toString(16)}`]};
  const data = {Cmd, Device: 'R719A'};
  if (bytes[0] === commands.ConfigReportReq) {
    Object.assign(data, {MinTime: (bytes[2] << 8) | bytes[3], MaxTime: (bytes[4] << 8) | bytes[5],
                         BatteryChange: bytes[6] / 10});
  }
  return {data};
}
