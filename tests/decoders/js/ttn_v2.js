// The legacy The Things Network v2 form: Decoder(bytes, port) and Encoder(object, port), in ES5.
function Decoder(bytes, port) {
  var decoded = {port: port};
  if (port === 1) {
    decoded.temperature = ((bytes[0] << 8) | bytes[1]) / 100;
    decoded.battery = bytes[2] / 10;
  }
  return decoded;
}

function Encoder(object, port) {
  return [object.led ? 1 : 0, port, object.interval & 0xff];
}
