#!/usr/bin/env bash
# Browser end-to-end tests (Debian's Chromium + playwright-core from npm, pinned in
# package-lock.json). Expects build/release/meeting (or MEETING_BINARY).
set -euo pipefail
cd "$(dirname "$0")"
if [[ ! -d node_modules/playwright-core ]]; then
  npm ci --no-audit --no-fund
fi
exec node run-all.js "$@"
