#!/usr/bin/env bash
# Runs every test: set-up and builds (release and ASan+UBSan), the Criterion unit tests, a smoke of the
# load generator (release), the phoenix.js integration tests (fault tests included) against both builds,
# a soak (scripts/soak.sh: release, then ASan for leaks) and 20 s of each libFuzzer target (scripts/fuzz.sh).
# Ends with one line "tests: N passed, N failed".
set -uo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --sanitize || { echo "tests: 0 passed, 1 failed"; exit 1; }

export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=23"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
log=$(mktemp -d)
passed=0
failed=0

count_ctest() { # from "NN% tests passed, F tests failed out of T"
    local line t f
    line=$(grep -E 'tests passed, [0-9]+ tests? failed out of [0-9]+' "$1" | tail -1)
    t=$(sed -E 's/.*out of ([0-9]+).*/\1/' <<<"$line"); f=$(sed -E 's/.*passed, ([0-9]+) tests? failed.*/\1/' <<<"$line")
    if [ -z "$line" ]; then failed=$((failed + 1)); return; fi
    passed=$((passed + t - f)); failed=$((failed + f))
}
count_fuzz() { # one test per target, from "fuzz: <target> ok|FAILED ..."
    local p f
    p=$(grep -cE '^fuzz: [^ ]+ ok ' "$1"); f=$(grep -cE '^fuzz: [^ ]+ FAILED' "$1")
    if [ "$((p + f))" -eq 0 ]; then failed=$((failed + 1)); return; fi
    passed=$((passed + p)); failed=$((failed + f))
}
# What failed in a node --test log (every "not ok", a subtest's too, with its error up to the stack),
# printed where it happened and kept for the summary at the end, which is what a CI log's tail shows.
failures_of() { # log label
    { echo "-- failures ($2):"
      awk '/^ *not ok/ {n = 16; print; next} n > 0 && /^ *(stack:|\.\.\.$)/ {n = 0} n > 0 {print; n--}' "$1" |
          grep -vE '^ *(---|duration_ms:|type:|failureType:)' | head -120
    } | tee -a "$log/failures.txt"
}
count_node() { # from "# pass N" / "# fail N"
    local p f
    p=$(grep -E '^# pass [0-9]+' "$1" | tail -1 | awk '{print $3}'); f=$(grep -E '^# fail [0-9]+' "$1" | tail -1 | awk '{print $3}')
    if [ -z "$p" ]; then failed=$((failed + 1)); return; fi
    passed=$((passed + p)); failed=$((failed + ${f:-0}))
}

for b in build build-asan; do
    echo "== unit tests ($b)"
    (cd "$b" && ctest --output-on-failure) 2>&1 | tee "$log/ctest-$b.txt" | tail -3
    count_ctest "$log/ctest-$b.txt"
done

# The load generator, for correctness only (benchmarks are scripts/bench.sh): its self-test, a short
# fan-out (also on reader threads) and churn against the release build that must show no loss, duplicate
# or error, and runs with stalled subscribers that must fail (the checker catches loss). One test.
loadgen_smoke() {
    local lg=build/tests/bench/loadgen srv=build/server/cinder rc
    build/tests/bench/loadgen_selftest || return 1
    "$lg" fanout --spawn "$srv" -n 50 --rate 50 --duration 2 --floor-secs 0 --deadline 60 || return 1
    "$lg" fanout --spawn "$srv" -n 20 --rate 20 --duration 1 --floor-secs 0 --publisher ws --deadline 60 || return 1
    "$lg" fanout --spawn "$srv" -n 50 --rate 50 --duration 1 --floor-secs 0 --readers 2 --deadline 60 || return 1
    "$lg" churn --spawn "$srv" -n 20 --duration 1 --deadline 60 || return 1
    "$lg" fanout --spawn "$srv" -n 10 --rate 20 --duration 1 --floor-secs 0 --drain 1 --stall 2 --deadline 60
    rc=$?
    [ "$rc" -eq 1 ] || { echo "a stalled run exited $rc, not 1"; return 1; }
    "$lg" fanout --spawn "$srv" -n 10 --rate 20 --duration 1 --floor-secs 0 --drain 1 --stall 3 --readers 2 --deadline 60
    rc=$?
    [ "$rc" -eq 1 ] || { echo "a stalled run on reader threads exited $rc, not 1"; return 1; }
}
echo "== load generator smoke (build)"
if loadgen_smoke >"$log/loadgen.txt" 2>&1; then
    passed=$((passed + 1)); echo "loadgen smoke: ok"
else
    failed=$((failed + 1)); echo "-- loadgen smoke failed:"; tail -40 "$log/loadgen.txt"
fi

echo "== integration tests: npm install"
(cd tests && npm ci --no-audit --no-fund --loglevel=error) || { echo "tests: $passed passed, $((failed + 1)) failed"; exit 1; }
for b in build build-asan; do
    echo "== integration tests ($b)"
    (cd tests && CINDER_BIN="$PWD/../$b/server/cinder" node --test --test-concurrency=1 integration/) \
        >"$log/node-$b.txt" 2>&1
    grep -E '^not ok|^# (tests|pass|fail)' "$log/node-$b.txt"
    # the fault tests' figures (losses, peak RSS, times)
    grep -E '^ +# (node kill|Redis killed|slow consumers|round [0-9]|storm|pre-handshake):' "$log/node-$b.txt" | sed -E 's/^ +# /   /'
    if grep -q '^not ok' "$log/node-$b.txt"; then
        failures_of "$log/node-$b.txt" "$b"
    fi
    count_node "$log/node-$b.txt"
done

# The soak (scripts/soak.sh): SOAK_MINUTES of mixed traffic against the release build (nothing lost,
# idle RSS back to its baseline, a clean exit), then 30 s against the ASan build, whose LeakSanitizer
# must report nothing at exit. One test. 5 minutes (issue 9); the whole run stays under 15 minutes on a
# 2-core box (README "Soak"); SOAK_MINUTES=2 for a quicker local run; scripts/soak.sh 60 is the long run.
soak_minutes=${SOAK_MINUTES:-5}
echo "== soak ($soak_minutes min, build; 0.5 min, build-asan)"
if scripts/soak.sh "$soak_minutes" build/server/cinder >"$log/soak.txt" 2>&1 &&
    scripts/soak.sh 0.5 build-asan/server/cinder >>"$log/soak.txt" 2>&1; then
    passed=$((passed + 1))
    grep -E '^soak: [0-9.]+ min' "$log/soak.txt"
else
    failed=$((failed + 1)); echo "-- soak failed:"; tail -40 "$log/soak.txt"
fi

echo "== client-js: npm install, dashboard vendor files"
if (cd client-js && npm ci --no-audit --no-fund --loglevel=error && node scripts/build-dashboard.js); then
    for b in build build-asan; do
        echo "== client-js tests ($b)"
        (cd client-js && CINDER_BIN="$PWD/../$b/server/cinder" node --test --test-concurrency=1 test/*.test.js) \
            >"$log/client-js-$b.txt" 2>&1
        grep -E '^not ok|^# (tests|pass|fail)' "$log/client-js-$b.txt"
        if grep -q '^not ok' "$log/client-js-$b.txt"; then
            failures_of "$log/client-js-$b.txt" "client-js $b"
        fi
        count_node "$log/client-js-$b.txt"
    done
    # The dashboard in headless Chromium (Debian's chromium, driven by playwright-core), bounded.
    echo "== e2e tests: dashboard in Chromium (build)"
    (cd client-js && CINDER_BIN="$PWD/../build/server/cinder" timeout 170 node --test --test-concurrency=1 e2e/*.test.js) \
        >"$log/e2e.txt" 2>&1
    grep -E '^not ok|^# (tests|pass|fail)' "$log/e2e.txt"
    if grep -q '^not ok' "$log/e2e.txt"; then
        failures_of "$log/e2e.txt" "e2e"
    fi
    count_node "$log/e2e.txt"
else
    failed=$((failed + 1))
fi

echo "== fuzz (20 s per target, two at a time)"
FUZZ_JOBS=2 scripts/fuzz.sh 20 2>&1 | tee "$log/fuzz.txt" | grep -vE '^== fuzz: building'
count_fuzz "$log/fuzz.txt"

if [ -s "$log/failures.txt" ]; then
    echo "== what failed (again, from above)"
    head -150 "$log/failures.txt"
fi
echo "tests: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
