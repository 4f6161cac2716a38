#!/usr/bin/env bash
# tools/fuzz.sh [SECONDS]: builds the libFuzzer targets in tests/fuzz with clang and
# -fsanitize=fuzzer,address,undefined in their own build dir, then runs each for SECONDS (default 60) on a copy
# of its seed corpus, printing executions, corpus size and any crash (the reproducer is kept in
# BUILD/work/TARGET/artifacts/). Exit status 1 when any target crashed.
# Environment: SMALLAREA_FUZZ_BUILD_DIR (default build-fuzz), SMALLAREA_JOBS (default 2), FUZZ_TARGETS
# (default "csv manifest period http").
set -euo pipefail
SECONDS_EACH=${1:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${SMALLAREA_FUZZ_BUILD_DIR:-$ROOT/build-fuzz}
JOBS=${SMALLAREA_JOBS:-2}
TARGETS=${FUZZ_TARGETS:-csv manifest period http}

# clang and the libFuzzer runtime (Debian packages), installed only when missing.
need=()
command -v clang++ > /dev/null || need+=(clang)
compgen -G "/usr/lib/llvm-*/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a" > /dev/null || need+=(libclang-rt-14-dev)
if [ ${#need[@]} -gt 0 ]; then
    echo "fuzz.sh: installing ${need[*]}"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" > /dev/null
fi

cmake -S "$ROOT/tests/fuzz" -B "$BUILD" -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$BUILD.configure.log" 2>&1 || { cat "$BUILD.configure.log"; exit 2; }
# shellcheck disable=SC2046
cmake --build "$BUILD" -j"$JOBS" --target $(for t in $TARGETS; do printf 'fuzz_%s ' "$t"; done) > "$BUILD.build.log" 2>&1 ||
    { tail -40 "$BUILD.build.log"; exit 2; }

# GDAL and SpatiaLite keep process-lifetime allocations (driver registry, caches) that LeakSanitizer would
# report on every run; leaks in our own code are still caught by ASan's use-after-free/overflow checks.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

failed=0
printf '%-10s %12s %10s %8s %s\n' target executions exec/s corpus result
for t in $TARGETS; do
    work="$BUILD/work/$t"
    mkdir -p "$work/corpus" "$work/artifacts"
    cp -n "$ROOT/tests/fuzz/corpus/$t/"* "$work/corpus/" 2> /dev/null || true
    options=(-max_total_time="$SECONDS_EACH" -print_final_stats=1 -artifact_prefix="$work/artifacts/" -timeout=10
             -rss_limit_mb=2048 -max_len=8192)
    [ "$t" = manifest ] && options+=(-dict="$ROOT/tests/fuzz/manifest.dict")
    set +e
    (cd "$work" && "$BUILD/fuzz_$t" "${options[@]}" "$work/corpus" > "$work/log" 2>&1)
    rc=$?
    set -e
    execs=$(awk '/stat::number_of_executed_units/ {print $2}' "$work/log" | tail -1)
    rate=$(awk '/stat::average_exec_per_sec/ {print $2}' "$work/log" | tail -1)
    corpus=$(find "$work/corpus" -type f | wc -l)
    if [ $rc -eq 0 ]; then
        result=ok
    else
        result="CRASH (exit $rc): $(ls "$work/artifacts" | head -3 | tr '\n' ' ')"
        failed=1
    fi
    printf '%-10s %12s %10s %8s %s\n' "$t" "${execs:-?}" "${rate:-?}" "$corpus" "$result"
    if [ $rc -ne 0 ]; then
        grep -E "ERROR|SUMMARY|runtime error|escaped|#[0-9]+ 0x" "$work/log" | head -25 | sed 's/^/    /'
        echo "    log: $work/log"
    fi
done
exit $failed
