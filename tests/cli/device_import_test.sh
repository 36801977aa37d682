#!/usr/bin/env bash
# `schwebe device import` and `schwebe device export` (README, Device CSV) on stores of their own: broken rows
# reported by line, column and reason while the good rows go in, --all-or-nothing, re-import changing nothing,
# export without keys unless asked, and export → import giving the same store.
set -u
schwebe="$1"
failures=0
checks=0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SCHWEBE_STORAGE_SQLITE_PATH="$work/a.db"

fail() {
  echo "FAIL $1"
  failures=$((failures + 1))
}
check() { # check NAME CONDITION-EXIT-CODE
  checks=$((checks + 1))
  if [ "$2" -ne 0 ]; then fail "$1"; fi
}
# json_field JSON KEY: a top-level number or boolean of a one-line JSON object.
json_field() { grep -o "\"$2\":[a-z0-9]*" <<<"$1" | head -1 | cut -d: -f2; }

profiles() {
  "$schwebe" profile add --name parking --activation abp --mac-version 1.0.3 >/dev/null &&
    "$schwebe" profile add --name env --activation otaa --mac-version 1.0.3 --codec elsys-ers-co2 >/dev/null
}
profiles || { echo "FAIL profile add"; exit 1; }

join_eui=70b3d57ed0000001
app_key=2b7e151628aed2a6abf7158809cf4f3c
nwk_s_key=f46614d5caa4d7dcaa4bcce31210127d
app_s_key=a1b2c3d4e5f60718293a4b5c6d7e8f90
bad_key=0123456789abcdef0123456789abcdeZ

# Columns in an order of their own; a quoted name with a comma and a quote; CRLF line ends on two rows; a quoted
# field over two lines (line numbers count physical lines).
cat >"$work/devices.csv" <<EOF
dev_eui,name,profile,application,join_eui,app_key,dev_addr,nwk_s_key,app_s_key,zone,spot,latitude,longitude,tags
70B3D57ED0000101,P-101,parking,parking,,,26011001,$nwk_s_key,$app_s_key,neumarkt,1,51.2565,7.148,kind=parking
70b3d57ed0000102,"P-102, ""corner""",parking,parking,,,26011002,$nwk_s_key,$app_s_key,neumarkt,2,51.2566,7.1481,
70b3d57ed0000201,E-201,env,environment,$join_eui,$app_key,,,,,,51.25,7.15,room=101;floor=1
70b3d57ed00002zz,E-bad-eui,env,environment,$join_eui,$app_key,,,,,,,,
70b3d57ed0000202,E-no-key,env,environment,$join_eui,,,,,,,,,
70b3d57ed0000203,E-bad-key,env,environment,$join_eui,$bad_key,,,,,,,,
70b3d57ed0000204,E-no-profile,nosuch,environment,$join_eui,$app_key,,,,,,,,
70b3d57ed0000101,P-dup,parking,parking,,,26011003,$nwk_s_key,$app_s_key,neumarkt,3,,,
70b3d57ed0000205,E-lat-only,env,environment,$join_eui,$app_key,,,,,,51.2,,
70b3d57ed0000206,E-short,env
70b3d57ed0000103,P-zone-only,parking,parking,,,26011004,$nwk_s_key,$app_s_key,werth,,,,
70b3d57ed0000104,P-abp-with-app-key,parking,parking,,$app_key,26011005,$nwk_s_key,$app_s_key,werth,4,,,
70b3d57ed0000207,"E-two
lines",env,environment,$join_eui,$app_key,,,,,,,,
70b3d57ed0000208,E-bad-tag,env,environment,$join_eui,$app_key,,,,,,,,novalue
EOF
# CRLF on the first two data rows.
sed -i '2,3s/$/\r/' "$work/devices.csv"

out=$("$schwebe" device import "$work/devices.csv" --json 2>"$work/err")
code=$?
err=$(cat "$work/err")
check "import with broken rows exits 1 (got $code)" $([ "$code" -eq 1 ]; echo $?)
check "summary rows=14: $out" $([ "$(json_field "$out" rows)" = 14 ]; echo $?)
check "summary added=4: $out" $([ "$(json_field "$out" added)" = 4 ]; echo $?)
check "summary refused=10: $out" $([ "$(json_field "$out" refused)" = 10 ]; echo $?)
check "summary committed: $out" $([ "$(json_field "$out" committed)" = true ]; echo $?)
check "summary applications_created=2: $out" $([ "$(json_field "$out" applications_created)" = 2 ]; echo $?)
f="$work/devices.csv"
for want in "$f:5: dev_eui: expected 16 hex digits, got '70b3d57ed00002zz'" \
  "$f:6: app_key: required for an OTAA device" \
  "$f:7: app_key: expected 32 hex digits" \
  "$f:8: profile: no device profile 'nosuch'" \
  "$f:9: dev_eui: 70b3d57ed0000101 is already on line 2" \
  "$f:10: longitude: give both latitude and longitude, or neither" \
  "$f:11: expected 14 fields as in the header, got 3" \
  "$f:12: spot: a parking spot needs both zone and spot" \
  "$f:13: app_key: not allowed on an ABP device" \
  "$f:16: tags: expected key=value;key=value, got 'novalue'"; do
  checks=$((checks + 1))
  grep -qF -- "$want" <<<"$err" || fail "stderr lacks '$want': $err"
done
checks=$((checks + 1))
grep -qiF "${bad_key}" <<<"$err$out" && fail "a key's value was printed: $err"
checks=$((checks + 1))
[ "$(wc -l <<<"$err")" -eq 10 ] || fail "want one stderr line per refused row: $err"

list=$("$schwebe" device list --json)
for eui in 70b3d57ed0000101 70b3d57ed0000102 70b3d57ed0000201 70b3d57ed0000207; do
  checks=$((checks + 1))
  grep -qF "\"$eui\"" <<<"$list" || fail "device $eui not imported"
done
for eui in 70b3d57ed0000202 70b3d57ed0000203 70b3d57ed0000204 70b3d57ed0000103 70b3d57ed0000104; do
  checks=$((checks + 1))
  grep -qF "\"$eui\"" <<<"$list" && fail "refused device $eui imported"
done
show=$("$schwebe" device show --dev-eui 70b3d57ed0000102 --json)
check "quoted name kept: $show" $(grep -qF 'P-102, \"corner\"' <<<"$show"; echo $?)
check "zone tag: $show" $(grep -qF '"zone": "neumarkt"' <<<"$show"; echo $?)
check "spot tag: $show" $(grep -qF '"spot": "2"' <<<"$show"; echo $?)
show=$("$schwebe" device show --dev-eui 70b3d57ed0000201 --json)
check "tags column: $show" $(grep -qF '"room": "101"' <<<"$show" && grep -qF '"floor": "1"' <<<"$show"; echo $?)
check "location: $show" $(grep -qF '"latitude": 51.25' <<<"$show"; echo $?)
show=$("$schwebe" device show --dev-eui 70b3d57ed0000207 --json)
check "a name over two lines: $show" $(grep -qF '"name": "E-two\nlines"' <<<"$show"; echo $?)

# The same file again: the same rows refused, nothing changed.
out=$("$schwebe" device import "$work/devices.csv" --json 2>/dev/null)
check "re-import: unchanged 4, added 0: $out" \
  $([ "$(json_field "$out" unchanged)" = 4 ] && [ "$(json_field "$out" added)" = 0 ] &&
    [ "$(json_field "$out" updated)" = 0 ] && [ "$(json_field "$out" applications_created)" = 0 ]; echo $?)

# A changed name updates the device, and its ABP session (same address and keys) keeps its counters.
sed 's/^70b3d57ed0000102,"P-102, ""corner"""/70b3d57ed0000102,P-102-renamed/' "$work/devices.csv" >"$work/renamed.csv"
out=$("$schwebe" device import "$work/renamed.csv" --json 2>/dev/null)
check "rename: updated 1: $out" $([ "$(json_field "$out" updated)" = 1 ]; echo $?)
check "renamed" $("$schwebe" device show --dev-eui 70b3d57ed0000102 | grep -qF "name: P-102-renamed"; echo $?)

# --all-or-nothing on a fresh store: the same broken file imports nothing.
export SCHWEBE_STORAGE_SQLITE_PATH="$work/b.db"
profiles
out=$("$schwebe" device import --all-or-nothing "$work/devices.csv" --json 2>/dev/null)
code=$?
check "all-or-nothing exits 1 (got $code)" $([ "$code" -eq 1 ]; echo $?)
check "all-or-nothing not committed: $out" $([ "$(json_field "$out" committed)" = false ]; echo $?)
check "all-or-nothing: no device" $([ "$("$schwebe" device list --json | grep -c dev_eui)" -eq 0 ]; echo $?)
check "all-or-nothing: no application" $([ "$(sqlite3 "$work/b.db" 'SELECT count(*) FROM applications')" -eq 0 ]; echo $?)
# --dry-run: the rows checked, nothing written.
head -4 "$work/devices.csv" >"$work/good.csv"
out=$("$schwebe" device import --dry-run "$work/good.csv" --json)
check "dry run exits 0 and reports 3 added: $out" $([ $? -eq 0 ] && [ "$(json_field "$out" added)" = 3 ]; echo $?)
check "dry run wrote nothing" $([ "$("$schwebe" device list --json | grep -c dev_eui)" -eq 0 ]; echo $?)

# Unusable files: exit 2 with the reason.
printf 'dev_eui,name,colour\n' >"$work/unknown-column.csv"
printf 'dev_eui,name\n70b3d57ed0000101,x\n' >"$work/no-profile.csv"
printf 'dev_eui,name,profile\n70b3d57ed0000101,"open\n' >"$work/open-quote.csv"
for case in "unknown-column:unknown column 'colour'" "no-profile:the header has no column 'profile'" \
  "open-quote:line 2: a quoted field is never closed" "missing:cannot read"; do
  name=${case%%:*}
  want=${case#*:}
  out=$("$schwebe" device import "$work/$name.csv" 2>&1)
  code=$?
  checks=$((checks + 1))
  { [ "$code" -eq 2 ] && grep -qF -- "$want" <<<"$out"; } || fail "$name: exit $code, output: $out (want 2 and '$want')"
done

# Export: the import format, keys blank unless --with-keys.
export SCHWEBE_STORAGE_SQLITE_PATH="$work/a.db"
"$schwebe" device export -o "$work/export.csv"
check "export exits 0" $?
check "export header" $(head -1 "$work/export.csv" | grep -qx \
  'dev_eui,name,application,profile,join_eui,app_key,dev_addr,nwk_s_key,app_s_key,zone,spot,latitude,longitude,altitude,tags'
  echo $?)
check "export has 4 devices" $([ "$(grep -c "^70b3d57ed" "$work/export.csv")" -eq 4 ]; echo $?)
check "export without keys" $(! grep -qiE "$app_key|$nwk_s_key|$app_s_key" "$work/export.csv"; echo $?)
check "export zone and spot columns" $(grep -q '^70b3d57ed0000101,P-101,parking,parking,,,26011001,,,neumarkt,1,51.2565,7.148,,kind=parking$' \
  "$work/export.csv"; echo $?)
# Re-importing an export without keys keeps the stored keys and changes nothing.
out=$("$schwebe" device import "$work/export.csv" --json)
check "export re-imported unchanged: $out" $([ "$(json_field "$out" unchanged)" = 4 ]; echo $?)
"$schwebe" device export --with-keys >"$work/export-keys.csv"
check "export --with-keys has the keys" $(grep -qF "$app_key" "$work/export-keys.csv" && grep -qF "$nwk_s_key" \
  "$work/export-keys.csv"; echo $?)
# Into a fresh store: the same devices, the same export.
export SCHWEBE_STORAGE_SQLITE_PATH="$work/c.db"
profiles
out=$("$schwebe" device import "$work/export-keys.csv" --json)
check "export --with-keys imports into a fresh store: $out" $([ $? -eq 0 ] && [ "$(json_field "$out" added)" = 4 ]; echo $?)
check "round trip" $(diff <("$schwebe" device export --with-keys) "$work/export-keys.csv" >/dev/null; echo $?)
# Standard input.
export SCHWEBE_STORAGE_SQLITE_PATH="$work/d.db"
profiles
out=$("$schwebe" device import - --json <"$work/good.csv")
check "import from stdin: $out" $([ "$(json_field "$out" added)" = 3 ]; echo $?)

for args in "device import --help" "device export --help"; do
  checks=$((checks + 1))
  # shellcheck disable=SC2086
  "$schwebe" $args >/dev/null || fail "--help: schwebe $args"
done

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
