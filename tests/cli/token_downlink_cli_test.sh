#!/usr/bin/env bash
# `schwebe token …` and `schwebe downlink …` on a store of their own: exit codes, output, a secret shown only once,
# and the downlink queue checked as the HTTP API checks it.
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

# check NAME CONDITION…: a test of a value captured above.
check() {
  local name="$1"
  shift
  checks=$((checks + 1))
  if ! "$@"; then fail "$name"; fi
}

# absent NAME TEXT FILE…: TEXT is in none of the files (those that exist).
absent() {
  local name="$1" text="$2"
  shift 2
  checks=$((checks + 1))
  if grep -qaF -- "$text" "$@" 2>/dev/null; then fail "$name"; fi
}

# json_holds NAME JSON CHECK: CHECK, a Python expression over the parsed JSON (`out`), is true.
json_holds() {
  local name="$1" json="$2" check="$3"
  checks=$((checks + 1))
  local program="import json, os, sys; out = json.loads(os.environ['OUT']); sys.exit(0 if ($check) else 1)"
  if ! OUT="$json" python3 -c "$program"; then
    fail "$name: output $json does not satisfy: $check"
  fi
}

# ---- token ---------------------------------------------------------------------------------------------------------

# The secret alone on stdout; the id and name on stderr.
secret=$("$schwebe" token create --name sim 2>"$work/stderr")
code=$?
check "token create succeeds" [ "$code" -eq 0 ]
check "token create prints one secret starting with schwebe_ (got '$secret')" \
  grep -qxE 'schwebe_[A-Za-z0-9_-]{43}' <<<"$secret"
check "token create names the token on stderr" grep -qF "token sim created" "$work/stderr"
absent "token create keeps the secret off stderr" "$secret" "$work/stderr"

json=$("$schwebe" token create --name parking-import --json 2>/dev/null)
json_holds "token create --json" "$json" \
  "len(out['id']) == 36 and out['name'] == 'parking-import' and out['created_at']
   and out['token'].startswith('schwebe_')"
json_holds "token create --json: only id, name, created_at, token" "$json" \
  "list(out) == ['id', 'name', 'created_at', 'token']"
json_secret=$(OUT="$json" python3 -c "import json, os; print(json.loads(os.environ['OUT'])['token'])")
json_id=$(OUT="$json" python3 -c "import json, os; print(json.loads(os.environ['OUT'])['id'])")
check "two tokens have two secrets" [ "$secret" != "$json_secret" ]

expect_error "duplicate token name" "name: a token named 'sim' exists" token create --name sim
expect_error "empty token name" "name:" token create --name ""
expect_error "token create without --name" "--name is required" token create

expect "token list" 0 "sim" token list
expect "token list names both" 0 "parking-import" token list
expect "token list json" 0 '"name": "sim"' token list --json
expect "token list json has last_used_at" 0 '"last_used_at": null' token list --json
for s in "$secret" "$json_secret"; do
  refute "token list keeps the secret hidden" "$s" token list
  refute "token list --json keeps the secret hidden" "$s" token list --json
  refute "token list keeps the secret's tail hidden" "${s#schwebe_}" token list --json
done
json_holds "token list --json: no field beyond id, name, created_at, last_used_at" "$("$schwebe" token list --json)" \
  "len(out) == 2 and all(list(t) == ['id', 'name', 'created_at', 'last_used_at'] for t in out)"
absent "the database holds no secret" "$secret" "$work"/schwebe.db*

expect "token revoke by name" 0 "token sim revoked" token revoke sim
refute "revoked token no longer listed" '"name": "sim"' token list --json
expect_error "token revoke again" "no token with id or name 'sim'" token revoke sim
expect "token revoke by id" 0 "revoked" token revoke "$json_id"
expect "token list empty" 0 "[]" token list --json
expect_error "token revoke of none" "no token with id or name 'nosuch'" token revoke nosuch

# ---- downlink ------------------------------------------------------------------------------------------------------

abp_eui=70b3d57ed0002b01
unknown_eui=70b3d57ed0002b99
"$schwebe" profile add --name meter --activation abp --mac-version 1.0.2 >/dev/null 2>&1
expect "device add abp" 0 "device $abp_eui added" \
  device add --dev-eui "$abp_eui" --name "Meter 1" --profile meter --dev-addr 260b1001 \
  --nwk-s-key f46614d5caa4d7dcaa4bcce31210127d --app-s-key 02fcbf1521523bd0a9654e1eaaacd84e

expect_error "enqueue for an unknown device" "--dev-eui: no device $unknown_eui" \
  downlink enqueue --dev-eui "$unknown_eui" --fport 10 --hex 01ab
expect_error "enqueue with a bad dev eui" "--dev-eui" downlink enqueue --dev-eui 70b3d57e --fport 10 --hex 01ab
expect "enqueue" 0 "queued for $abp_eui (f_port 10, 2 bytes, unconfirmed)" \
  downlink enqueue --dev-eui "$abp_eui" --fport 10 --hex 01AB
expect "enqueue confirmed" 0 "(f_port 223, 3 bytes, confirmed)" \
  downlink enqueue --dev-eui "$abp_eui" --fport 223 --hex c0ffee --confirmed
expect "enqueue 242 bytes" 0 "242 bytes" \
  downlink enqueue --dev-eui "$abp_eui" --fport 1 --hex "$(printf '00%.0s' $(seq 242))"

expect_error "fport 0" "--fport: must be 1..223" downlink enqueue --dev-eui "$abp_eui" --fport 0 --hex 01
expect_error "fport 224" "--fport: must be 1..223" downlink enqueue --dev-eui "$abp_eui" --fport 224 --hex 01
expect_error "fport not a number" "--fport" downlink enqueue --dev-eui "$abp_eui" --fport ten --hex 01
expect_error "odd hex" "--hex: expected an even number of hex digits" \
  downlink enqueue --dev-eui "$abp_eui" --fport 10 --hex 0
expect_error "non-hex" "--hex: expected an even number of hex digits" \
  downlink enqueue --dev-eui "$abp_eui" --fport 10 --hex zz
expect_error "243 bytes" "--hex: longer than 242 bytes" \
  downlink enqueue --dev-eui "$abp_eui" --fport 10 --hex "$(printf '00%.0s' $(seq 243))"
expect_error "enqueue without --hex" "--hex is required" downlink enqueue --dev-eui "$abp_eui" --fport 10

json=$("$schwebe" downlink list --dev-eui "$abp_eui" --json 2>/dev/null)
json_holds "list --json: the three accepted items, none refused" "$json" "len(out) == 3"
json_holds "list --json: the first item in sending order" "$json" \
  "out[0]['f_port'] == 10 and out[0]['data'] == '01ab' and out[0]['confirmed'] is False and out[0]['attempts'] == 0
   and out[0]['f_cnt_down'] is None"
json_holds "list --json: the confirmed item" "$json" \
  "out[1]['f_port'] == 223 and out[1]['data'] == 'c0ffee' and out[1]['confirmed'] is True"
expect "list shows the hex" 0 "01ab" downlink list --dev-eui "$abp_eui"
expect "list shows the f_port" 0 "223" downlink list --dev-eui "$abp_eui"
expect_error "list for an unknown device" "--dev-eui: no device $unknown_eui" downlink list --dev-eui "$unknown_eui"

expect "flush" 0 "3 downlinks removed from the queue of $abp_eui" downlink flush --dev-eui "$abp_eui"
expect "list after flush" 0 "[]" downlink list --dev-eui "$abp_eui" --json
refute "list after flush shows no item" "01ab" downlink list --dev-eui "$abp_eui"
expect "flush of an empty queue" 0 "0 downlinks removed" downlink flush --dev-eui "$abp_eui"
expect_error "flush for an unknown device" "--dev-eui: no device $unknown_eui" downlink flush --dev-eui "$unknown_eui"

# ---- help ----------------------------------------------------------------------------------------------------------

for args in "token --help" "token create --help" "token list --help" "token revoke --help" "downlink --help" \
  "downlink enqueue --help" "downlink list --help" "downlink flush --help"; do
  checks=$((checks + 1))
  # shellcheck disable=SC2086
  if ! "$schwebe" $args >/dev/null; then fail "--help: schwebe $args"; fi
done
expect "token --help lists its subcommands" 0 "revoke" token --help
expect "downlink --help lists its subcommands" 0 "enqueue" downlink --help
for args in "token" "downlink"; do
  checks=$((checks + 1))
  if "$schwebe" "$args" >/dev/null 2>&1; then fail "'schwebe $args' without a subcommand succeeded"; fi
done

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
