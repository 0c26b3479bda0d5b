#!/usr/bin/env bash
# Installs what cinder needs on Debian bookworm (only what is missing), then builds it.
#   scripts/setup.sh            release build in build/
#   scripts/setup.sh --sanitize also an AddressSanitizer + UndefinedBehaviorSanitizer build in build-asan/
# Runs as root or through sudo.
set -euo pipefail
cd "$(dirname "$0")/.."

sudo_cmd=""
if [ "$(id -u)" != 0 ]; then sudo_cmd="sudo"; fi

packages=(build-essential cmake pkg-config libwebsockets-dev libjansson-dev libhiredis-dev
          libev-dev libwebsockets-evlib-ev # the epoll loop libwebsockets runs on (server/endpoint.c)
          libcriterion-dev libssl-dev uthash-dev redis-server curl
          clang libclang-rt-dev # clang and its sanitizer/libFuzzer runtimes: scripts/fuzz.sh
          libsystemd-dev        # sd_notify for the systemd unit (server/notify.c)
          python3)              # the sd_notify test's stand-in for systemd's notify socket
# Headless Chromium for the dashboard's end-to-end tests: only for the test set-up (scripts/test.sh).
if [ "${1:-}" = "--sanitize" ]; then packages+=(chromium); fi
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# Node.js and npm: Debian's, unless a node is already installed (e.g. from nodesource, which bundles npm).
if ! command -v node >/dev/null 2>&1; then missing+=(nodejs); fi
if ! command -v npm >/dev/null 2>&1; then missing+=(npm); fi
if [ "${#missing[@]}" -gt 0 ]; then
    echo "setup: installing ${missing[*]}"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# The dashboard (client-js/dashboard, served at / when run from here) loads the phoenix client from
# client-js/node_modules: install it when missing or stale, and copy it in (npm run build-dashboard).
if [ ! -f client-js/node_modules/.package-lock.json ] ||
   [ client-js/package-lock.json -nt client-js/node_modules/.package-lock.json ]; then
    (cd client-js && npm ci --no-audit --no-fund --loglevel=error >/dev/null) ||
        echo "setup: npm ci in client-js failed: the dashboard will not load" >&2
fi
if [ -d client-js/node_modules/phoenix ]; then (cd client-js && node scripts/build-dashboard.js >/dev/null); fi

jobs=$(nproc 2>/dev/null || echo 2)
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCINDER_WERROR=ON >/dev/null
cmake --build build -j"$jobs"
if [ "${1:-}" = "--sanitize" ]; then
    cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DCINDER_ASAN=ON -DCINDER_UBSAN=ON -DCINDER_WERROR=ON >/dev/null
    cmake --build build-asan -j"$jobs"
fi
