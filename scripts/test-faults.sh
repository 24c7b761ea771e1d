#!/usr/bin/env bash
# Fault injection at every step of an operation (tests/integration/faults): builds only those
# tests, in a plain and an ASan+UBSan tree, and runs them. Usage: bash scripts/test-faults.sh
# [--no-asan]. Build trees: build-faults, build-faults-asan (override with FAULTS_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
jobs="${JOBS:-2}"
common=(-G Ninja -DHEARTBEAT_BUILD_BENCHMARKS=OFF -DHEARTBEAT_BUILD_EXAMPLES=OFF
        -DHEARTBEAT_BUILD_TOOLS=OFF "-DHEARTBEAT_INTEGRATION_GLOB=faults/*_test.cpp")

run_tree() {
    local dir="$1"
    shift
    cmake -S . -B "$dir" "${common[@]}" "$@" >/dev/null
    cmake --build "$dir" -j"$jobs" --target integration_tests
    "$dir/tests/integration_tests" --gtest_brief=1
}

base="${FAULTS_BUILD_DIR:-build-faults}"
run_tree "$base" -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [[ "${1:-}" != "--no-asan" ]]; then
    run_tree "$base-asan" -DCMAKE_BUILD_TYPE=Debug -DHEARTBEAT_SANITIZE=address,undefined
fi
