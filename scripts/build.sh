#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release). Usage: scripts/build.sh [preset] [targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
jobs="${MEETING_JOBS:-$(nproc)}"
# The web app first: the C++ build embeds web/dist/app. Rebuilt only when a source changed.
if [[ -x web/node_modules/.bin/esbuild ]]; then
  if [[ ! -f web/dist/app/app.js ]] || [[ -n "$(find web/sdk/src web/app web/scripts web/package-lock.json web/tsconfig.json -newer web/dist/app/app.js -print -quit)" ]]; then
    echo "build: web app (web/dist)"
    (cd web && node scripts/build.mjs)
  fi
else
  echo "build: web/node_modules is missing (scripts/setup.sh installs it): building without the web app" >&2
fi
if [[ ! -f "build/$preset/build.ninja" ]]; then
  cmake --preset "$preset" >/dev/null
fi
echo "build: $preset (-j$jobs)"
cmake --build "build/$preset" -j "$jobs" ${*:+--target "$@"}
