#!/usr/bin/env bash
# Installs what building, running and testing Meeting needs, from Debian's archive and npm only.
# Idempotent: when everything is present it only checks and returns in about a second.
#   scripts/setup.sh          build dependencies (enough to build and run the server)
#   scripts/setup.sh --test   plus what the tests start for real: Chromium, MariaDB, coturn, ...
set -euo pipefail

build_packages=(
  g++ cmake ninja-build pkg-config git ca-certificates
  libboost1.81-dev libssl-dev libsrtp2-dev libnss3-dev libusrsctp-dev
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev
  libsqlite3-dev libmariadb-dev libhiredis-dev libcurl4-openssl-dev libsodium-dev
)
test_packages=(
  libgtest-dev libgmock-dev libbenchmark-dev clang libclang-rt-14-dev
  chromium mariadb-server coturn iproute2 curl tmux procps openssl
)

wanted=("${build_packages[@]}")
if [[ "${1:-}" == "--test" ]]; then wanted+=("${test_packages[@]}"); fi
# Node.js: the machine's own (any >= 18) is fine; otherwise Debian's.
command -v node >/dev/null 2>&1 || wanted+=(nodejs npm)

missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
  # Debian starts these services on install; the tests start their own instances on loopback.
  for svc in mariadb coturn; do
    if command -v systemctl >/dev/null 2>&1; then systemctl disable --now "$svc" >/dev/null 2>&1 || true; fi
    service "$svc" stop >/dev/null 2>&1 || true
  done
else
  echo "setup: all build${1:+ and test} dependencies present"
fi

# The web app and SDK (web/): TypeScript and esbuild pinned by web/package-lock.json, needed to
# build the app that the binary embeds.
root="$(cd "$(dirname "$0")/.." && pwd)"
if [[ -f "$root/web/package-lock.json" && ! -x "$root/web/node_modules/.bin/esbuild" ]]; then
  echo "setup: npm ci in web"
  (cd "$root/web" && npm ci --no-audit --no-fund --loglevel=error)
fi

# Browser tests: playwright-core pinned by test/e2e/package-lock.json (drives Debian's Chromium;
# it never downloads a browser). Installed here because the tests run without network.
if [[ "${1:-}" == "--test" && -f test/e2e/package-lock.json ]]; then
  if [[ ! -d "$root/test/e2e/node_modules/playwright-core" ]]; then
    echo "setup: npm ci in test/e2e"
    (cd "$root/test/e2e" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
