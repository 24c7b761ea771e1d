#!/usr/bin/env bash
# Builds the libFuzzer targets of fuzz/ with clang-14 under ASan+UBSan (in build-fuzz/) and runs
# each for a bounded time on a scratch copy of its seed corpus (fuzz/corpus/<target>/; nothing
# is written into the repository). Fails on any crash, leak, sanitizer report or broken
# invariant, printing the input that caused it; prints each target's executions and coverage.
#
#   scripts/fuzz.sh [--seconds N] [--jobs J] [--targets "a b ..."]
#     --seconds N   fuzzing time per target (default 60)
#     --jobs J      targets fuzzed at the same time (default 1; each uses one core)
#     --targets     a subset, by name (default: all of fuzz/CMakeLists.txt's list)
#     --build-only  build the targets and stop (CI builds them while other tests run)
#     --no-build    run what build-fuzz/ already holds
#
# A crash input is kept in build-fuzz/fuzz-runs/<time>/<target>/; once the bug is fixed, copy it
# to fuzz/corpus/<target>/crash-<what> so the normal test build replays it (ctest -L fuzz).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"

seconds=60
jobs=1
targets=""
build=1
run=1
while [ $# -gt 0 ]; do
  case "$1" in
    --seconds) seconds=$2; shift 2 ;;
    --jobs) jobs=$2; shift 2 ;;
    --targets) targets=$2; shift 2 ;;
    --build-only) run=0; shift ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "fuzz.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
case "$seconds$jobs" in
  *[!0-9]*) echo "fuzz.sh: --seconds and --jobs take whole numbers" >&2; exit 2 ;;
esac
[ "$jobs" -ge 1 ] || { echo "fuzz.sh: --jobs must be at least 1" >&2; exit 2; }

if ! command -v clang++-14 >/dev/null ||
   ! ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1; then
  echo "fuzz.sh: clang++-14 and libFuzzer (Debian: clang-14 libclang-rt-14-dev) are needed;" \
       "scripts/install-deps.sh installs them" >&2
  exit 2
fi

all_targets=$(sed -n '/^set(HEARTBEAT_FUZZ_TARGETS/,/)/p' fuzz/CMakeLists.txt |
  sed -e '1d' -e 's/[ )]//g' | grep -v '^$')
targets=${targets:-$all_targets}
for t in $targets; do
  grep -qx "$t" <<<"$all_targets" || { echo "fuzz.sh: no fuzz target '$t'" >&2; exit 2; }
done

if [ "$build" = 1 ]; then
  echo "== configure and build the fuzzers (clang-14, ASan+UBSan, build-fuzz/) =="
  build_start=$(date +%s)
  CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHEARTBEAT_BUILD_FUZZERS=ON -DHEARTBEAT_BUILD_TESTS=OFF -DHEARTBEAT_BUILD_BENCHMARKS=OFF \
    -DHEARTBEAT_BUILD_EXAMPLES=OFF -DHEARTBEAT_BUILD_TOOLS=OFF >/dev/null
  cmake --build build-fuzz -j"${HEARTBEAT_JOBS:-2}" --target $(for t in $targets; do echo "${t}_fuzzer"; done)
  echo "build: $(( $(date +%s) - build_start )) s"
fi
[ "$run" = 1 ] || exit 0
for t in $targets; do
  [ -x "build-fuzz/fuzz/${t}_fuzzer" ] || { echo "fuzz.sh: build-fuzz/fuzz/${t}_fuzzer is not built (run without --no-build)" >&2; exit 2; }
done

runs="$root/build-fuzz/fuzz-runs/$(date +%Y%m%d-%H%M%S)"
mkdir -p "$runs"
echo "== fuzzing: $seconds s per target, $jobs at a time; scratch in $runs =="

fuzz_one() {
  local t=$1 dir="$runs/$1"
  mkdir -p "$dir/corpus"
  cp fuzz/corpus/"$t"/* "$dir/corpus/"
  local dict=()
  [ -f "fuzz/$t.dict" ] && dict=("-dict=$root/fuzz/$t.dict")
  # -timeout: one input taking 30 s is a hang (the session fuzzers end each input in ms).
  # -rss_limit_mb: far above what they need, so only a real leak or blow-up trips it.
  set +e
  "build-fuzz/fuzz/${t}_fuzzer" -max_total_time="$seconds" -timeout=30 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/" "${dict[@]}" "$dir/corpus" >"$dir/log" 2>&1
  echo $? >"$dir/rc"
  set -e
}

fuzz_start=$(date +%s)
running=0
for t in $targets; do
  fuzz_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
done
wait
echo "fuzzing: $(( $(date +%s) - fuzz_start )) s"

failed=0
printf '%-28s %12s %9s %7s %7s %7s  %s\n' target execs exec/s cov ft corpus result
for t in $targets; do
  dir="$runs/$t"
  rc=$(cat "$dir/rc")
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$dir/log")
  last=$(grep -E '^#[0-9]+' "$dir/log" | grep -E 'cov: ' | tail -1)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\).*/\1/p' <<<"$last")
  result=ok
  if [ "$rc" != 0 ]; then
    failed=1
    crash=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$dir/log" | tail -1)
    result="FAILED (exit $rc): input ${crash:-not saved}, log $dir/log"
  fi
  printf '%-28s %12s %9s %7s %7s %7s  %s\n' "$t" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
    "${ft:-?}" "${corp:-?}" "$result"
done
if [ "$failed" != 0 ]; then
  echo "fuzz.sh: a target failed; its report:" >&2
  for t in $targets; do
    [ "$(cat "$runs/$t/rc")" = 0 ] || grep -E -A25 'ERROR|invariant|==[0-9]+==' "$runs/$t/log" | head -60 >&2
  done
  exit 1
fi
echo "fuzz.sh: no crash in $(wc -w <<<"$targets") targets"
