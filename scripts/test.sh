#!/usr/bin/env bash
# Sets up, builds and runs every test: unit and integration tests (CTest, GoogleTest), a short
# run of every libFuzzer target, and (when present) the browser end-to-end tests.
# Environment: MEETING_FUZZ_SECONDS (default 20 per target; 0 skips fuzzing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
started=$(date +%s)

scripts/setup.sh --test

echo "== build (release, warnings are errors)"
scripts/build.sh release

# Tests talk only to loopback: run them in a network namespace that has nothing else, when we may.
isolate() {
  if [[ "${MEETING_NO_NETNS:-}" != 1 ]] && command -v unshare >/dev/null && unshare -n true 2>/dev/null; then
    unshare -n sh -c 'ip link set lo up && exec "$@"' isolated "$@"
  else
    "$@"
  fi
}

echo "== web SDK unit tests"
(cd web && node scripts/build.mjs --tests && node --test dist/test/)

echo "== unit and integration tests"
isolate ctest --test-dir build/release --output-on-failure --timeout 600 -j "$(nproc)"

fuzz_seconds="${MEETING_FUZZ_SECONDS:-20}"
if [[ "$fuzz_seconds" != 0 ]]; then
  echo "== fuzz targets (${fuzz_seconds}s each)"
  shopt -s nullglob
  targets=()
  for source in test/fuzz/fuzz_*.cpp; do targets+=("$(basename "$source" .cpp)"); done
  scripts/build.sh fuzz "${targets[@]}"   # only the fuzz targets and what they link
  count=0
  for target in build/fuzz/test/fuzz/fuzz_*; do
    [[ -x "$target" ]] || continue
    name=$(basename "$target")
    corpus="build/fuzz/corpus/$name"
    mkdir -p "$corpus"
    seeds=()
    [[ -d "test/fuzz/corpus/$name" ]] && seeds=("test/fuzz/corpus/$name")
    echo "-- $name"
    (cd build/fuzz && "$root/$target" -max_total_time="$fuzz_seconds" -timeout=10 -rss_limit_mb=2048 \
        -print_final_stats=1 "$root/$corpus" "${seeds[@]/#/$root/}" 2>&1 | tail -n 12)
    count=$((count + 1))
  done
  echo "fuzz: $count targets ran clean"
fi

if [[ -f test/e2e/run.sh ]]; then
  echo "== browser end-to-end tests"
  isolate test/e2e/run.sh
fi

echo "== all tests passed in $(( $(date +%s) - started ))s"
