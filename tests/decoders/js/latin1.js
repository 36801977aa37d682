// A codec file in Latin-1, as some vendors ship them: the bytes 0xE4 and 0xFC in a comment and in a string.
// März über
function decodeUplink({bytes}) {
  return {data: {text: 'März über', counter: bytes[0]}};
}
