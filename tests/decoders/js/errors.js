// TS013 errors and warnings, and answers without a data object, chosen by FPort.
function decodeUplink(input) {
  switch (input.fPort) {
    case 1: return {errors: ['unknown sensor type 0x' + input.bytes[0].toString(16), 'length ' + input.bytes.length + ' is not 4']};
    case 2: return {data: {level: input.bytes[0]}, warnings: ['battery low', 'clock not set']};
    case 3: return {warnings: ['no data here']};
    case 4: return {data: 42};
    case 5: return 'just a string';
    default: return {data: {level: input.bytes[0]}, errors: []};
  }
}
