#!/usr/bin/env bash
# The dashboard's browser test (README, Tests): installs playwright-core from npm into the build tree (once), then
# runs dashboard_test.mjs against a `schwebe serve` fed with the shipped Wuppertal day, in Debian's Chromium.
# Usage: tests/browser/run.sh SCHWEBE_BINARY WORK_DIR   (screenshots land in WORK_DIR/screenshots)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
schwebe=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mkdir -p "$2" && cd "$2" && pwd)
mkdir -p "$work"
chromium=${CHROMIUM:-$(command -v chromium || true)}
if [ -z "$chromium" ]; then
  echo "browser test: no chromium (scripts/install-deps installs Debian's)" >&2
  exit 1
fi
if ! cmp -s "$here/package-lock.json" "$work/package-lock.json" || [ ! -d "$work/node_modules/playwright-core" ]; then
  cp "$here/package.json" "$here/package-lock.json" "$work/"
  (cd "$work" && npm ci --no-audit --no-fund --loglevel=error)
fi
exec node "$here/dashboard_test.mjs" --schwebe "$schwebe" --deps "$work" --chromium "$chromium" \
  --scenario "$here/../scenarios/wuppertal-day" --screenshots "$work/screenshots"
