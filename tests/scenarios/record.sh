#!/usr/bin/env bash
# Records the shipped scenario tests/scenarios/wuppertal-day: the default simulated city (6 gateways, 5 parking zones
# of 40 spots, 30 environment sensors, 20 heat meters, half of those OTAA) over one simulated Monday, sent by
# `schwebe sim --plant` to a `schwebe serve` that captures every datagram (bridge.capture_file).
#   capture.jsonl.gz  the capture (README, Capture and replay), gzip
#   devices.csv       the devices with their keys, for `schwebe device import`
#   truth.json        the ground truth the simulator kept: uplinks and readings per device and quantity, each
#                     reading's last value, each parking spot's final status, each zone's counts, the planted refusals
#   summary.json      the simulator's summary of the recording run
# Usage: tests/scenarios/record.sh [path/to/schwebe]. Run it again only when the simulation changes on purpose; the
# scenario test (tests/app/serve_scenario_test.cpp) replays what is here.
set -euo pipefail
cd "$(dirname "$0")/../.."
schwebe=$(realpath "${1:-build/app/schwebe}")
out=tests/scenarios/wuppertal-day
work=$(mktemp -d)
trap 'kill "$serve" 2>/dev/null || true; rm -rf "$work"' EXIT

port=$((20000 + RANDOM % 20000))  # a loopback port; a clash shows as the server failing to bind
export SCHWEBE_STORAGE_SQLITE_PATH="$work/schwebe.db" SCHWEBE_MQTT_ENABLED=false \
  SCHWEBE_BRIDGE_UDP_BIND="127.0.0.1:$port" SCHWEBE_BRIDGE_CAPTURE_FILE="$work/capture.jsonl" SCHWEBE_API_BIND=127.0.0.1:0
sim=(--seed 1 --hours 24 --speed 1440)
"$schwebe" sim "${sim[@]}" --provision --provision-only --devices-csv "$out/devices.csv"
"$schwebe" serve >"$work/serve.log" 2>&1 &
serve=$!
sleep 1  # the server binds its socket; the simulator's first PUSH_DATA would be acknowledged late otherwise
"$schwebe" sim "${sim[@]}" --plant --progress off --truth "$out/truth.json" --json >"$out/summary.json"
kill -TERM "$serve"
wait "$serve"
gzip -9n <"$work/capture.jsonl" >"$out/capture.jsonl.gz"
grep 'refused in total' "$work/serve.log" || true
ls -l "$out"
