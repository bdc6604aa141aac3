#!/usr/bin/env bash
# Sets up, builds (release) and starts the all-in-one server: open the printed URL in a browser.
# Extra arguments go to `meeting` (e.g. --listen 0.0.0.0:8443 --data /var/lib/meeting).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh release meeting
exec build/release/meeting all "$@"
