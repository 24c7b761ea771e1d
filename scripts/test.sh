#!/usr/bin/env bash
# Sets up, builds and runs every test: the CLI, examples, install consumer, netns, soak and
# benchmark-driver smoke over a RelWithDebInfo build; the unit and integration tests under
# AddressSanitizer + UndefinedBehaviorSanitizer (leaks included); the multi-threaded ones under
# ThreadSanitizer; every fuzzer for a bounded time. Exits non-zero on the first failure.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh

jobs=${HEARTBEAT_JOBS:-2}
# Each phase says when it starts and how long the one before it took, so a slow CI run shows where.
phase_started=$SECONDS
phase() {
  echo "[$((SECONDS - phase_started)) s, total $SECONDS s]"
  phase_started=$SECONDS
  echo "== $* =="
}
# The interop peers (Node ws, Chromium, redis-server, mosquitto) are installed above: a test that
# cannot find one fails instead of skipping.
export HEARTBEAT_REQUIRE_INTEROP=1

# Three more builds (ASan+UBSan, TSan, the clang fuzzers) compile at the lowest CPU priority
# while the tests of the build before them run: most tests wait on timers and sockets, and the
# timing-sensitive ones keep the CPU they need (a nice-19 compile gets ~1.5 % of a core against
# them). Each background build logs to build/<name>.log, shown when it fails.
# Each runs in its own process group, ended with the script whatever way it ends.
mkdir -p build
background_pids=()
stop_background_builds() {
  for pid in "${background_pids[@]}"; do kill -- "-$pid" 2>/dev/null || true; done
}
trap stop_background_builds EXIT
background_build() { # NAME COMMAND...: starts it, sets background_pid
  local name=$1
  shift
  setsid nice -n 19 "$@" >"build/$name.log" 2>&1 &
  background_pid=$!
  background_pids+=("$background_pid")
}
wait_for_build() { # NAME PID
  local rc=0
  wait "$2" || rc=$?
  local kept=() pid # it ended: never signal its group again
  for pid in "${background_pids[@]}"; do [ "$pid" = "$2" ] || kept+=("$pid"); done
  background_pids=("${kept[@]}")
  if [ "$rc" != 0 ]; then
    echo "the $1 build failed; its log:" >&2
    tail -n 60 "build/$1.log" >&2
    exit 1
  fi
}
asan_build() {
  cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHEARTBEAT_SANITIZE=address,undefined \
    -DHEARTBEAT_BUILD_BENCHMARKS=OFF -DHEARTBEAT_BUILD_EXAMPLES=OFF -DHEARTBEAT_BUILD_TOOLS=OFF >/dev/null
  cmake --build build-asan -j"$jobs" --target unit_tests integration_tests
}
tsan_and_fuzz_build() {
  cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHEARTBEAT_SANITIZE=thread \
    -DHEARTBEAT_BUILD_BENCHMARKS=OFF -DHEARTBEAT_BUILD_EXAMPLES=OFF -DHEARTBEAT_BUILD_TOOLS=OFF \
    -DHEARTBEAT_BUILD_UNIT_TESTS=OFF \
    -DHEARTBEAT_INTEGRATION_GLOB='session_threads_test.cpp;websocket_completion_test.cpp;server_cancel_test.cpp' >/dev/null
  cmake --build build-tsan -j"$jobs" --target integration_tests
  bash scripts/fuzz.sh --build-only
}

# The unit and integration tests are built and run under ASan+UBSan only (below); this build
# holds the library, the CLI, the examples, the benchmarks, the soak and the netns tests.
phase "build (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHEARTBEAT_BUILD_UNIT_TESTS=OFF -DHEARTBEAT_BUILD_INTEGRATION_TESTS=OFF >/dev/null
cmake --build build -j"$jobs"
export -f asan_build tsan_and_fuzz_build
export jobs
background_build asan-build bash -c 'set -euo pipefail; asan_build'
asan_pid=$background_pid

phase "tests: CLI, examples, install, netns, fuzz corpus replay (ASan+UBSan build compiling)"
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 600 -LE 'integration|soak'
# The CLI's process tests, with the real Prometheus and Chromium, one at a time.
ctest --test-dir build --output-on-failure --timeout 600 -L integration
phase "soak: 1,000 sessions, peers killed and frozen at random, 60 s"
ctest --test-dir build --output-on-failure --timeout 300 -L soak

phase "benchmark driver smoke: every comparison briefly, over the test build (~20 s)"
REUSE_BUILD=1 BUILD_DIR="$root/build" LOG_DIR="$root/build/run_all-smoke" bash benchmarks/run_all.sh --quick

phase "waiting for the ASan+UBSan build"
wait_for_build asan-build "$asan_pid"
background_build tsan-fuzz-build bash -c 'set -euo pipefail; tsan_and_fuzz_build'
tsan_fuzz_pid=$background_pid

phase "unit and integration tests under ASan+UBSan (TSan and fuzzer builds compiling)"
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
ctest --test-dir build-asan --output-on-failure -j"$jobs" -L unit
# Timing-sensitive integration tests run one at a time.
ctest --test-dir build-asan --output-on-failure --timeout 600 -L integration
unset ASAN_OPTIONS UBSAN_OPTIONS

phase "waiting for the TSan and fuzzer builds"
wait_for_build tsan-fuzz-build "$tsan_fuzz_pid"

phase "multi-threaded session tests under ThreadSanitizer"
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build-tsan --output-on-failure -R 'SessionThreads|WebSocketCompletion|ServerCancel|ServerTeardown' --no-tests=error

phase "fuzzing: every libFuzzer target, bounded (clang-14, ASan+UBSan)"
bash scripts/fuzz.sh --no-build --seconds 10 --jobs 2
echo "[$((SECONDS - phase_started)) s, total $SECONDS s] all tests passed"
