#!/usr/bin/env bash
# Configures and builds one CMake preset (default: release). Usage: scripts/build.sh [preset] [targets...]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-release}"
shift || true
jobs="${MEETING_JOBS:-$(nproc)}"
if [[ ! -f "build/$preset/build.ninja" ]]; then
  cmake --preset "$preset" >/dev/null
fi
echo "build: $preset (-j$jobs)"
cmake --build "build/$preset" -j "$jobs" ${*:+--target "$@"}
