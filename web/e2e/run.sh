#!/usr/bin/env bash
# Everything the web client's CI needs after `npm ci`: build the SDK
# (sdk/, which the app depends on as @twostep/client), type-check and build
# the app, run the unit tests, then the tests against the real Go server and
# Verify emulator (each test file starts and stops its own): the browser
# test of the app, GraphiQL at /, and the SDK's smoke test in Node.
# Needs Go and Chromium (/usr/bin/chromium, or CHROMIUM_PATH). Exits non-zero
# on any failure. Screenshots and server logs: web/e2e/artifacts/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ]; then
  echo "e2e: no Chromium at ${CHROMIUM_PATH:-/usr/bin/chromium} (apt-get install -y chromium)" >&2
  exit 1
fi

echo "== web: build the SDK, type-check and build the app"
npm run build

echo "== web: unit tests"
npm test

echo "== web: browser tests, GraphiQL and the SDK against the real server"
rm -rf e2e/artifacts
# One server binary for every test file, unless one was given.
if [ -z "${TWOSTEP_BIN:-}" ]; then
  bindir=$(mktemp -d)
  trap 'rm -rf "$bindir"' EXIT
  (cd .. && go build -o "$bindir/twostep" .)
  export TWOSTEP_BIN="$bindir/twostep"
fi
node --test --test-reporter=spec e2e/
