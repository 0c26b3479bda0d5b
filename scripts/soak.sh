#!/usr/bin/env bash
# The soak (README "Soak"): MINUTES (default 5) of mixed traffic against one cinder (joins, leaves,
# shouts, API broadcasts, presence churn, phoenix.js long-poll clients, misbehaving clients), after a
# warm-up of the same traffic. RSS and the server's gauges are sampled every 5 s into
# OUT/soak-samples.csv; then everyone leaves and the idle RSS must come back within the tolerance of the
# idle RSS after the warm-up (release builds), nothing posted may be lost, the server must not crash and
# must exit cleanly (an ASan build's LeakSanitizer runs at that exit: any leak fails the soak).
#
#   scripts/soak.sh                                   # 5 minutes against build/server/cinder
#   scripts/soak.sh 60                                # the 1-hour run
#   scripts/soak.sh 0.75 build-asan/server/cinder     # the leak check scripts/test.sh runs
#
# OUT is $SOAK_OUT, else a "soak" directory next to the binary's build tree. Prints one summary line
# ("soak: ... ok" or "... FAILED") and exits 0 only when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-5}
bin=${2:-${CINDER_BIN:-build/server/cinder}}
[ -x "$bin" ] || { echo "soak: no cinder at $bin (build it first: scripts/setup.sh)"; exit 1; }
bin=$(realpath "$bin")
out=${SOAK_OUT:-$(dirname "$(dirname "$bin")")/soak}
[ -d tests/node_modules ] || (cd tests && npm ci --no-audit --no-fund --loglevel=error)
# what scripts/test.sh sets for the sanitizer builds: leaks are reported at exit and fail it
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:exitcode=23}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
cd tests
exec env CINDER_BIN="$bin" node soak/soak.mjs --minutes "$minutes" --out "$out"
