#!/usr/bin/env bash
# Sets up, builds and runs every test: the full suite (unit, integration, examples, install
# consumer, CLI), then the unit and integration tests again under AddressSanitizer +
# UndefinedBehaviorSanitizer (leaks included), the multi-threaded ones under ThreadSanitizer, and
# builds the benchmarks so they cannot rot. Exits non-zero on the first failure.
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

phase "build (RelWithDebInfo)"
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$jobs"
phase "tests"
# Timing-sensitive integration tests run one at a time; the rest in parallel.
ctest --test-dir build --output-on-failure -j"$jobs" --timeout 600 -LE 'integration|soak'
ctest --test-dir build --output-on-failure --timeout 600 -L integration
phase "soak: 1,000 sessions, peers killed and frozen at random, 60 s"
ctest --test-dir build --output-on-failure --timeout 300 -L soak

phase "benchmark driver smoke: every comparison briefly, over the test build (~20 s)"
REUSE_BUILD=1 BUILD_DIR="$root/build" LOG_DIR="$root/build/run_all-smoke" bash benchmarks/run_all.sh --quick

phase "unit and integration tests under ASan+UBSan"
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHEARTBEAT_SANITIZE=address,undefined \
  -DHEARTBEAT_BUILD_BENCHMARKS=OFF -DHEARTBEAT_BUILD_EXAMPLES=OFF -DHEARTBEAT_BUILD_TOOLS=OFF >/dev/null
cmake --build build-asan -j"$jobs" --target unit_tests integration_tests
export ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1
ctest --test-dir build-asan --output-on-failure -j"$jobs" -L unit
ctest --test-dir build-asan --output-on-failure --timeout 600 -L integration
unset ASAN_OPTIONS UBSAN_OPTIONS

phase "multi-threaded session tests under ThreadSanitizer"
cmake -S . -B build-tsan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DHEARTBEAT_SANITIZE=thread \
  -DHEARTBEAT_BUILD_BENCHMARKS=OFF -DHEARTBEAT_BUILD_EXAMPLES=OFF -DHEARTBEAT_BUILD_TOOLS=OFF \
  -DHEARTBEAT_INTEGRATION_GLOB='session_threads_test.cpp;websocket_completion_test.cpp;server_cancel_test.cpp' >/dev/null
cmake --build build-tsan -j"$jobs" --target integration_tests
TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" \
  ctest --test-dir build-tsan --output-on-failure -R 'SessionThreads|WebSocketCompletion|ServerCancel|ServerTeardown' --no-tests=error

phase "fuzzing: every libFuzzer target, bounded (clang-14, ASan+UBSan)"
bash scripts/fuzz.sh --seconds 10 --jobs 2
echo "[$((SECONDS - phase_started)) s, total $SECONDS s] all tests passed"
