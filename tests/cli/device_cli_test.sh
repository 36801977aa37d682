#!/usr/bin/env bash
# `schwebe profile …` and `schwebe device …` on a store of their own: exit codes, output, and keys never printed.
set -u
schwebe="$1"
failures=0
checks=0

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export SCHWEBE_STORAGE_SQLITE_PATH="$work/schwebe.db"

fail() {
  echo "FAIL $1"
  failures=$((failures + 1))
}

# expect NAME EXIT_CODE SUBSTRING ARGS…: the exit code, and SUBSTRING in stdout + stderr.
expect() {
  local name="$1" want_code="$2" want_text="$3" out code
  shift 3
  out=$("$schwebe" "$@" 2>&1)
  code=$?
  checks=$((checks + 1))
  if [ "$code" -ne "$want_code" ] || ! grep -qF -- "$want_text" <<<"$out"; then
    fail "$name: exit $code (want $want_code), output: $out (want to contain: $want_text)"
  fi
}

# expect_error NAME SUBSTRING ARGS…: non-zero exit, nothing on stdout, one line "schwebe: …" with SUBSTRING.
expect_error() {
  local name="$1" want_text="$2" out err code
  shift 2
  out=$("$schwebe" "$@" 2>"$work/stderr")
  code=$?
  err=$(cat "$work/stderr")
  checks=$((checks + 1))
  if [ "$code" -eq 0 ] || [ -n "$out" ] || [ "$(wc -l <<<"$err")" -ne 1 ] || ! grep -q '^schwebe: ' <<<"$err" ||
    ! grep -qF -- "$want_text" <<<"$err"; then
    fail "$name: exit $code, stdout: '$out', stderr: '$err' (want one line 'schwebe: …$want_text…')"
  fi
}

# refute NAME TEXT ARGS…: the command succeeds and TEXT appears nowhere in its output.
refute() {
  local name="$1" text="$2" out code
  shift 2
  out=$("$schwebe" "$@" 2>&1)
  code=$?
  checks=$((checks + 1))
  if [ "$code" -ne 0 ] || grep -qiF -- "$text" <<<"$out"; then
    fail "$name: exit $code, output contains '$text' or failed: $out"
  fi
}

otaa_eui=70b3d57ed0001a17
join_eui=70b3d57ed0000001
app_key=2b7e151628aed2a6abf7158809cf4f3c
abp_eui=70b3d57ed0002b01
dev_addr=260b1001
nwk_s_key=f46614d5caa4d7dcaa4bcce31210127d
app_s_key=02fcbf1521523bd0a9654e1eaaacd84e

# Profiles
expect "profile add otaa" 0 "device profile parking added" \
  profile add --name parking --activation otaa --mac-version 1.0.3 --codec nwave-nps405 --adr-margin-db 15 \
  --rx1-delay 5
expect "profile add abp" 0 "device profile meter added" \
  profile add --name meter --activation abp --mac-version 1.0.2 --fcnt-mode relaxed --adr off --rx2-dr 3 \
  --rx2-frequency 869525000 --rx1-dr-offset 1 --dev-status-interval 3600
expect_error "duplicate profile name" "name: a device profile 'parking' already exists" \
  profile add --name parking --activation abp --mac-version 1.0.4
expect_error "unknown codec" "--codec: expected a JavaScript codec file (.js) or one of" \
  profile add --name x --activation otaa --mac-version 1.0.3 --codec city-parking
expect_error "missing codec file" "--codec: no file nosuch.js" \
  profile add --name x --activation otaa --mac-version 1.0.3 --codec nosuch.js
printf 'function decodeUplink(input) { return {data: {n: input.bytes.length}}; }\n' > "$work/relative.js"
(cd "$work" && "$schwebe" profile add --name js --activation otaa --mac-version 1.0.3 --codec relative.js) \
  >/dev/null 2>&1
expect "a JS codec is stored by its absolute path" 0 "\"codec\": \"$work/relative.js\"" profile list --json
expect_error "bad activation" "--activation" profile add --name x --activation both --mac-version 1.0.3
expect_error "bad mac version" "--mac-version" profile add --name x --activation otaa --mac-version 1.1
expect_error "rx1 delay out of range" "rx1_delay_s" profile add --name x --activation otaa --mac-version 1.0.3 \
  --rx1-delay 16
expect_error "missing option" "--activation is required" profile add --name x --mac-version 1.0.3
expect_error "unknown option" "--colour" device list --colour
expect "profile list" 0 "parking" profile list
expect "profile list shows the margin" 0 '"adr_margin_db": 15' profile list --json
expect "profile list shows the counter mode" 0 '"f_cnt_mode": "relaxed"' profile list --json
expect "profile list shows rx1 delay" 0 '"rx1_delay_s": 5' profile list --json
expect "profile list shows the DevStatusReq interval" 0 '"dev_status_interval_s": 3600' profile list --json
expect_error "negative DevStatusReq interval" "--dev-status-interval" profile add --name y --activation abp \
  --mac-version 1.0.3 --dev-status-interval -5

# Devices
expect "device add otaa" 0 "device $otaa_eui added" \
  device add --dev-eui "$otaa_eui" --name "Spot 17" --profile parking --join-eui "$join_eui" --app-key "$app_key" \
  --tag zone=neumarkt --tag spot=17 --lat 51.2562 --lon 7.1508 --alt 160
expect "device add abp" 0 "device $abp_eui added" \
  device add --dev-eui "$abp_eui" --name "Meter 1" --profile meter --application energy --dev-addr "$dev_addr" \
  --nwk-s-key "$nwk_s_key" --app-s-key "$app_s_key"
expect_error "bad dev eui" "--dev-eui" \
  device add --dev-eui 70b3d57ed0001a --name x --profile parking --join-eui "$join_eui" --app-key "$app_key"
expect_error "non-hex dev eui" "--dev-eui" device show --dev-eui 70b3d57ed0001azz
expect_error "otaa device with abp keys" "dev_addr: not allowed on an OTAA device" \
  device add --dev-eui 70b3d57ed0001a18 --name x --profile parking --join-eui "$join_eui" --app-key "$app_key" \
  --dev-addr "$dev_addr" --nwk-s-key "$nwk_s_key" --app-s-key "$app_s_key"
expect_error "abp device without session" "nwk_s_key: required for an ABP device" \
  device add --dev-eui 70b3d57ed0002b02 --name x --profile meter --dev-addr "$dev_addr"
expect_error "unknown profile" "no device profile 'nosuch'" \
  device add --dev-eui 70b3d57ed0001a19 --name x --profile nosuch --join-eui "$join_eui" --app-key "$app_key"
expect_error "duplicate device" "dev_eui: a device $otaa_eui already exists" \
  device add --dev-eui "$otaa_eui" --name x --profile parking --join-eui "$join_eui" --app-key "$app_key"
refute "refused device left no application" "refused" device list --json
expect_error "a refused device creates no application" "no application 'refused'" \
  device list --application refused
"$schwebe" device add --dev-eui 70b3d57ed0001a20 --name x --profile parking --application refused \
  --dev-addr "$dev_addr" >/dev/null 2>&1
expect_error "a refused device creates no application, again" "no application 'refused'" \
  device list --application refused

expect "device list" 0 "$abp_eui" device list
expect "device list names otaa device" 0 "Spot 17" device list
expect "device list by application" 0 "$abp_eui" device list --application energy
refute "device list by application leaves others out" "$otaa_eui" device list --application energy
expect "device list json" 0 '"dev_eui": "'"$otaa_eui"'"' device list --json
expect "default application" 0 '"name": "default"' device show --dev-eui "$otaa_eui" --json
expect "show json" 0 '"app_key": "set"' device show --dev-eui "$otaa_eui" --json
expect "show json unset key" 0 '"nwk_s_key": "not set"' device show --dev-eui "$otaa_eui" --json
expect "show join eui" 0 "$join_eui" device show --dev-eui "$otaa_eui"
expect "show tags" 0 '"zone": "neumarkt"' device show --dev-eui "$otaa_eui" --json
expect "show abp" 0 '"dev_addr": "'"$dev_addr"'"' device show --dev-eui "$abp_eui" --json
expect "show abp keys set" 0 '"app_s_key": "set"' device show --dev-eui "$abp_eui" --json
for key in "$app_key" "$nwk_s_key" "$app_s_key"; do
  for eui in "$otaa_eui" "$abp_eui"; do
    refute "show keeps key hidden ($eui)" "$key" device show --dev-eui "$eui"
    refute "show --json keeps key hidden ($eui)" "$key" device show --dev-eui "$eui" --json
  done
  refute "list keeps key hidden" "$key" device list --json
done
# A malformed key is refused without being repeated.
out=$("$schwebe" device add --dev-eui 70b3d57ed0001a21 --name x --profile parking --join-eui "$join_eui" \
  --app-key "${app_key}00" 2>&1)
checks=$((checks + 1))
if grep -qF "$app_key" <<<"$out" || ! grep -qF -- "--app-key: expected 32 hex digits" <<<"$out"; then
  fail "bad app key: $out"
fi

# Remove
expect "remove" 0 "device $abp_eui removed" device remove --dev-eui "$abp_eui"
expect_error "show removed" "no device $abp_eui" device show --dev-eui "$abp_eui"
expect_error "remove again" "no device $abp_eui" device remove --dev-eui "$abp_eui"
refute "list after remove" "$abp_eui" device list

# --help works for every level, and a missing subcommand is an error.
for args in "profile --help" "profile add --help" "profile list --help" "device --help" "device add --help" \
  "device list --help" "device show --help" "device remove --help"; do
  checks=$((checks + 1))
  # shellcheck disable=SC2086
  if ! "$schwebe" $args >/dev/null; then fail "--help: schwebe $args"; fi
done
for args in "profile" "device"; do
  checks=$((checks + 1))
  if "$schwebe" "$args" >/dev/null 2>&1; then fail "'schwebe $args' without a subcommand succeeded"; fi
done

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
