#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz, clang with ASan+UBSan) in build-fuzz/ and runs each one for a
# bounded time from a fresh copy of its committed seed corpus (the committed corpus never grows).
#   scripts/fuzz.sh [seconds-per-target] [target...]     default 30 s, every target
#   FUZZ_JOBS=2 scripts/fuzz.sh 300                      two targets at a time (one core each)
# Prints one line per target: "fuzz: <target> ok|FAILED executions N corpus F files B bytes crashes C".
# Crash inputs stay in build-fuzz/crashes/<target>/ (replay: build-fuzz/tests/fuzz/<target> <file>),
# logs in build-fuzz/logs/. Exits non-zero when a target crashed or did not run.
set -uo pipefail
cd "$(dirname "$0")/.."

secs=${1:-30}
shift || true
all=(fuzz_frame_v2 fuzz_frame_v1 fuzz_frame_binary fuzz_lp_batch fuzz_api_body fuzz_conn_messages fuzz_config
     fuzz_envelope)
targets=("$@")
[ "$#" -gt 0 ] || targets=("${all[@]}")
jobs=${FUZZ_JOBS:-1}
out=build-fuzz

if ! command -v clang >/dev/null 2>&1; then
    echo "fuzz: clang not found (scripts/setup.sh installs clang and libclang-rt-dev)" >&2
    exit 1
fi
echo "== fuzz: building ${targets[*]} in $out/"
if ! { CC=clang cmake -S . -B "$out" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCINDER_FUZZ=ON -DCINDER_TESTS=OFF \
           -DCINDER_WERROR=ON >/dev/null &&
       cmake --build "$out" -j"$(nproc 2>/dev/null || echo 2)" --target "${targets[@]}" >"$out/build.log" 2>&1; }; then
    tail -30 "$out/build.log" 2>/dev/null
    for t in "${targets[@]}"; do echo "fuzz: $t FAILED (build)"; done
    exit 1
fi

mkdir -p "$out/logs" "$out/crashes"
# A failed property aborts; ASan/UBSan/LeakSanitizer reports end the run as crashes too.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:symbolize=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# run_one TARGET: fuzz TARGET for $secs seconds, then print its line.
run_one() {
    local t=$1 work="$out/corpus/$t" crashes="$out/crashes/$t" log="$out/logs/$t.log" dict=() before after
    rm -rf "$work"
    mkdir -p "$work" "$crashes"
    cp tests/fuzz/corpus/"$t"/* "$work"/
    # Every target but the binary frame one reads JSON text; the settings have their own words.
    case $t in
    fuzz_frame_binary) ;;
    fuzz_config) dict=(-dict=tests/fuzz/config.dict) ;;
    *) dict=(-dict=tests/fuzz/phoenix.dict) ;;
    esac
    before=$(find "$crashes" -type f | wc -l)
    "$out/tests/fuzz/$t" "${dict[@]}" -max_total_time="$secs" -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$crashes/" "$work" >"$log" 2>&1
    local rc=$?
    after=$(find "$crashes" -type f | wc -l)
    local execs files bytes status=ok
    execs=$(grep -E '^stat::number_of_executed_units:' "$log" | tail -1 | awk '{print $2}')
    files=$(find "$work" -type f | wc -l)
    bytes=$(find "$work" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
    if [ "$rc" -ne 0 ] || [ "$after" -ne "$before" ] || [ -z "$execs" ]; then status=FAILED; fi
    echo "fuzz: $t $status executions ${execs:-0} corpus $files files $bytes bytes crashes $((after - before))" |
        tee "$out/logs/$t.result"
    if [ "$status" = FAILED ]; then
        grep -E -m1 -A12 'ERROR: |fuzz property failed|runtime error' "$log" | sed 's/^/    /'
        find "$crashes" -type f -newer "$work" | sed "s|^|    input: |"
    fi
}

running=0
for t in "${targets[@]}"; do
    rm -f "$out/logs/$t.result"
    if [ ! -d "tests/fuzz/corpus/$t" ]; then
        echo "fuzz: $t FAILED (no such target)" | tee "$out/logs/$t.result"
        continue
    fi
    run_one "$t" &
    running=$((running + 1))
    if [ "$running" -ge "$jobs" ]; then
        wait -n
        running=$((running - 1))
    fi
done
wait
ok=0
for t in "${targets[@]}"; do grep -q '^fuzz: [^ ]* ok ' "$out/logs/$t.result" 2>/dev/null && ok=$((ok + 1)); done
echo "fuzz: $ok of ${#targets[@]} targets ran without a crash"
[ "$ok" -eq "${#targets[@]}" ]
