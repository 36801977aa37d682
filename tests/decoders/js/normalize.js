// decodeUplink + normalizeUplink (The Things Network's normalized payload) and the Schwebe `readings` extension,
// chosen by FPort.
function decodeUplink({fPort, bytes, recvTime}) {
  switch (fPort) {
    case 1:  // temperature 0.1 °C (u16), humidity % (u8), CO2 ppm (u16)
      return {data: {t: ((bytes[0] << 8) | bytes[1]) / 10, rh: bytes[2], co2: (bytes[3] << 8) | bytes[4]}};
    case 2:  // a temperature (u8, °C) per quarter hour, the last one at recvTime
      return {data: {series: bytes.map((t, i) => ({t,
        time: new Date(recvTime.getTime() - (bytes.length - 1 - i) * 15 * 60 * 1000).toISOString()}))}};
    case 3:  // PM2.5 in 0.5 µg/m³
      return {data: {pm25: bytes[0] / 2}, readings: [{quantity: 'pm2_5', value: bytes[0] / 2, unit: 'ug/m3'}]};
    default:  // two invalid extension readings and a valid one
      return {data: {pm10: bytes[0]}, readings: [{quantity: 'Bad Name!', value: 1, unit: '1'},
                                                 {quantity: 'pm10', value: 'x', unit: 'ug/m3'},
                                                 {quantity: 'pm10', value: bytes[0], unit: 'ug/m3'}]};
  }
}

function normalizeUplink({data}) {
  if (data.t !== undefined) return {data: {air: {temperature: data.t, relativeHumidity: data.rh, co2: data.co2}}};
  if (data.series) return {data: data.series.map(({t, time}) => ({time, air: {temperature: t}}))};
  return {data: {}};
}
