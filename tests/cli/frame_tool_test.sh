#!/usr/bin/env bash
# The real `schwebe` binary driven as a user drives it: JSON on stdin, one JSON line on stdout, exit codes 0/1/2.
set -u
schwebe="$1"
failures=0
checks=0

# expect NAME EXIT_CODE SUBSTRING INPUT
expect() {
  local name="$1" want_code="$2" want_text="$3" input="$4" out code
  out=$(printf '%s' "$input" | "$schwebe" frame "${ARGS[@]}")
  code=$?
  checks=$((checks + 1))
  if [ "$code" -ne "$want_code" ] || ! grep -qF -- "$want_text" <<<"$out"; then
    echo "FAIL $name: exit $code (want $want_code), output: $out (want to contain: $want_text)"
    failures=$((failures + 1))
  fi
  if [ "$(wc -l <<<"$out")" -ne 1 ]; then
    echo "FAIL $name: output is not one line"
    failures=$((failures + 1))
  fi
}

ARGS=(decode)
expect "accepted uplink" 0 '"frm_payload":"0204090200"' \
  '{"phy_payload":"4001100b26020300020d03330c6657bed8ac6e1f","nwk_s_key":"f46614d5caa4d7dcaa4bcce31210127d","app_s_key":"02fcbf1521523bd0a9654e1eaaacd84e","last_f_cnt_up":2}'
expect "replayed uplink" 1 '"error":"mic_mismatch"' \
  '{"phy_payload":"4001100b260001000a3229fcf71c571deb8f","nwk_s_key":"f46614d5caa4d7dcaa4bcce31210127d","app_s_key":"02fcbf1521523bd0a9654e1eaaacd84e","last_f_cnt_up":3}'
expect "duplicate uplink" 1 '"error":"fcnt_duplicate"' \
  '{"phy_payload":"4001100b26020300020d03330c6657bed8ac6e1f","nwk_s_key":"f46614d5caa4d7dcaa4bcce31210127d","last_f_cnt_up":3}'
expect "truncated frame" 1 '{"error":"malformed"' '{"phy_payload":"4002100b26000b0001e9"}'
expect "not JSON" 2 '"error":"invalid_input"' 'phy_payload=40'
expect "empty stdin" 2 '"error":"invalid_input"' ''
expect "join accept" 0 '"nwk_s_key":"d968797257a40e499a071b58da7f7703"' \
  '{"phy_payload":"20ae5b1bca5b9ef3934bf726c0a6e1c02aefe6a7740127473a15d63ff9d8ef5223","app_key":"91bd6f4b9ada201a552cee1676ff94b2","dev_nonce":"0001"}'

ARGS=(encode)
expect "encode ack" 0 '{"phy_payload":"6001100b26200000609efff7"}' \
  '{"m_type":"unconfirmed_data_down","dev_addr":"260b1001","f_cnt":0,"f_ctrl":{"ack":true},"nwk_s_key":"f46614d5caa4d7dcaa4bcce31210127d"}'
expect "encode without key" 2 "missing field 'nwk_s_key'" '{"m_type":"unconfirmed_data_down","dev_addr":"260b1001","f_cnt":0}'

# --help works for every level and a missing subcommand is an error with a reason.
for args in "--help" "frame --help" "frame decode --help" "frame encode --help"; do
  checks=$((checks + 1))
  # shellcheck disable=SC2086
  if ! "$schwebe" $args >/dev/null; then echo "FAIL --help: schwebe $args"; failures=$((failures + 1)); fi
done
checks=$((checks + 1))
if "$schwebe" frame >/dev/null 2>&1; then echo "FAIL: 'schwebe frame' without a subcommand succeeded"; failures=$((failures + 1)); fi

echo "$((checks - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
