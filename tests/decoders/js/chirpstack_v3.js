// The legacy ChirpStack v3 form: Decode(fPort, bytes, variables) and Encode(fPort, obj, variables), in ES5.
function Decode(fPort, bytes, variables) {
  return {fPort: fPort, counter: (bytes[0] << 8) | bytes[1],
          hasVariables: typeof variables === 'object' && variables !== null};
}

function Encode(fPort, obj, variables) {
  return [fPort, obj.setpoint * 2, obj.mode === 'eco' ? 1 : 0];
}
