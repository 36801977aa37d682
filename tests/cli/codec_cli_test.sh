#!/usr/bin/env bash
# `schwebe codec run` and `schwebe codec list`: the onboarding check, on a native codec with a codec example of the
# shared vectors and on JavaScript codecs written here; exit codes and JSON output.
set -u
schwebe="$1"
vectors="$2"
failures=0
checks=0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SCHWEBE_STORAGE_SQLITE_PATH="$work/schwebe.db"

fail() {
  echo "FAIL $1"
  failures=$((failures + 1))
}

# expect_json NAME EXIT_CODE JQ_LIKE_PYTHON_EXPR ARGS…: the exit code, and a Python expression over the parsed stdout
# (`out`) that must be true.
expect_json() {
  local name="$1" want_code="$2" check="$3" out code
  shift 3
  out=$("$schwebe" "$@" 2>"$work/stderr")
  code=$?
  checks=$((checks + 1))
  if [ "$code" -ne "$want_code" ]; then
    fail "$name: exit $code (want $want_code), stdout: $out, stderr: $(cat "$work/stderr")"
    return
  fi
  if ! OUT="$out" python3 -c "import json, os, sys; out = json.loads(os.environ['OUT']); sys.exit(0 if ($check) else 1)"; then
    fail "$name: output $out does not satisfy: $check"
  fi
}

# expect_error NAME SUBSTRING ARGS…: exit 2, nothing on stdout, one line "schwebe: …" with SUBSTRING.
expect_error() {
  local name="$1" want_text="$2" out err code
  shift 2
  out=$("$schwebe" "$@" 2>"$work/stderr")
  code=$?
  err=$(cat "$work/stderr")
  checks=$((checks + 1))
  if [ "$code" -ne 2 ] || [ -n "$out" ] || [ "$(wc -l <<<"$err")" -ne 1 ] || ! grep -qF -- "$want_text" <<<"$err"; then
    fail "$name: exit $code, stdout: '$out', stderr: '$err' (want exit 2 and one line with '$want_text')"
  fi
}

# Native: the Elsys ERS CO2 example of the shared codec examples (TTN Device Repository), with its readings.
elsys_hex=$(python3 -c "import json; print(json.load(open('$vectors/codec-examples/elsys-ers-co2.json'))['examples'][0]['bytes_hex'])")
expect_json "native codec example" 0 \
  "out['data'] == {'temperature': 22.6, 'humidity': 41, 'light': 39, 'motion': 6, 'co2': 776} and out['errors'] == [] \
   and {'quantity': 'co2', 'value': 776, 'unit': 'ppm'} in out['readings']" \
  codec run --codec elsys-ers-co2 --fport 1 --hex "$elsys_hex"
expect_json "native codec refuses a truncated payload" 1 \
  "out['data'] is None and len(out['errors']) == 1 and 'truncated' in out['errors'][0]" \
  codec run --codec elsys-ers-co2 --fport 1 --hex 0100
expect_json "codec list" 0 "'nwave-nps405' in out and 'cayenne-lpp' in out" codec list --json

# JavaScript: TS013 with normalizeUplink, an encoder and a downlink decoder.
cat >"$work/th.js" <<'JS'
// temperature: int16 big-endian in 0.1 °C; humidity: one byte in %. Downlink: 0x01, then the interval in s (u16).
const decodeUplink = ({bytes, fPort}) => {
  if (fPort !== 2) return {errors: [`unknown FPort ${fPort}`]};
  if (bytes.length < 3) return {errors: ['too short']};
  const raw = (bytes[0] << 8) | bytes[1];
  return {data: {temperature: (raw > 0x7fff ? raw - 0x10000 : raw) / 10, humidity: bytes[2]}};
};
function normalizeUplink({data}) {
  return {data: {air: {temperature: data.temperature, relativeHumidity: data.humidity}}};
}
function encodeDownlink({data}) {
  if (!(data.interval >= 60 && data.interval <= 65535)) return {errors: ['interval: expected 60..65535 s']};
  return {bytes: [0x01, data.interval >> 8, data.interval & 0xff], fPort: 10};
}
function decodeDownlink({bytes}) {
  return {data: {interval: (bytes[1] << 8) | bytes[2]}};
}
JS
# 0xff38 = -200 → -20.0 °C; 0x37 = 55 %
expect_json "js decode" 0 \
  "out['data'] == {'temperature': -20.0, 'humidity': 55} and out['errors'] == [] and out['warnings'] == [] \
   and out['readings'] == [{'quantity': 'temperature', 'value': -20.0, 'unit': 'Cel'}, \
                           {'quantity': 'relative_humidity', 'value': 55, 'unit': '%'}]" \
  codec run --codec "$work/th.js" --fport 2 --hex FF3837
expect_json "js decode error" 1 "out['data'] is None and out['errors'] == ['unknown FPort 3']" \
  codec run --codec "$work/th.js" --fport 3 --hex ff3837
expect_json "js encode" 0 "out['bytes'] == [1, 2, 88] and out['hex'] == '010258' and out['fPort'] == 10" \
  codec run --codec "$work/th.js" --fport 1 --encode '{"interval":600}'
expect_json "js encode refused" 1 "out['bytes'] is None and out['errors'] == ['interval: expected 60..65535 s']" \
  codec run --codec "$work/th.js" --fport 1 --encode '{"interval":5}'
expect_json "js decode downlink" 0 "out['data'] == {'interval': 600}" \
  codec run --codec "$work/th.js" --fport 10 --hex 010258 --downlink

# A legacy TTN v2 decoder, and a codec that never returns: the time limit answers, as an error (exit 1).
printf 'function Decoder(bytes, port) { return {port: port, first: bytes[0]}; }\n' >"$work/v2.js"
expect_json "legacy Decoder" 0 "out['data'] == {'port': 5, 'first': 171}" \
  codec run --codec "$work/v2.js" --fport 5 --hex ab
printf 'function decodeUplink() { for (;;) {} }\n' >"$work/loop.js"
SCHWEBE_CODECS_JS_TIMEOUT_MS=50 expect_json "time limit" 1 \
  "out['data'] is None and 'time limit of 50 ms' in out['errors'][0]" \
  codec run --codec "$work/loop.js" --fport 1 --hex 00

# Invalid input: exit 2 with one line.
expect_error "unknown native codec" "no native codec 'nosuch'" codec run --codec nosuch --fport 1 --hex 00
expect_error "missing file" "cannot read $work/none.js" codec run --codec "$work/none.js" --fport 1 --hex 00
printf 'function decodeUplink( {\n' >"$work/broken.js"
expect_error "syntax error" "SyntaxError" codec run --codec "$work/broken.js" --fport 1 --hex 00
expect_error "bad hex" "--hex" codec run --codec elsys-ers-co2 --fport 1 --hex 0g
expect_error "odd hex" "--hex" codec run --codec elsys-ers-co2 --fport 1 --hex 010
expect_error "both hex and encode" "one of --hex and --encode" \
  codec run --codec "$work/th.js" --fport 1 --hex 00 --encode '{}'
expect_error "encode not an object" "--encode: expected a JSON object" \
  codec run --codec "$work/th.js" --fport 1 --encode '[1]'
SCHWEBE_CODECS_JS_NODE=/nonexistent/node expect_error "node missing" "node not found" \
  codec run --codec "$work/th.js" --fport 2 --hex ff3837

echo "$checks checks, $failures failures"
[ "$failures" -eq 0 ]
