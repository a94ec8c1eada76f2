#!/usr/bin/env bash
# Everything the web client's CI needs after `npm ci`: type-check and build
# the app, run the unit tests, then the browser test against the real Go
# server and Verify emulator (which the test starts and stops itself).
# Needs Go and Chromium (/usr/bin/chromium, or CHROMIUM_PATH). Exits non-zero
# on any failure. Screenshots and server logs: web/e2e/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "e2e: no Chromium at ${CHROMIUM_PATH:-/usr/bin/chromium} (apt-get install -y chromium)" >&2
  exit 1
fi

echo "== web: type-check and build"
npm run build

echo "== web: unit tests"
npm test

echo "== web: browser test"
rm -rf e2e/artifacts
node --test --test-reporter=spec e2e/
