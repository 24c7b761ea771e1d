#!/usr/bin/env bash
# Builds and runs only the hostile-peer integration tests (tests/integration/hostile): ping
# floods, handshakes and frames cut short or trickled, peers that never read, extreme length
# fields, thousands of abandoned connections. Prints the "[ figures  ]" lines the tests measure
# (outcomes, times, descriptors, RSS) that docs/reliability.md quotes. About 2 min of tests on 2
# shared cores, plus the build (a few minutes cold, seconds with ccache).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${HEARTBEAT_HOSTILE_BUILD:-build-hostile}
jobs=${HEARTBEAT_JOBS:-2}

cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DHEARTBEAT_BUILD_BENCHMARKS=OFF -DHEARTBEAT_BUILD_EXAMPLES=OFF -DHEARTBEAT_BUILD_TOOLS=OFF \
  -DHEARTBEAT_INTEGRATION_GLOB='hostile/*_test.cpp' >/dev/null
cmake --build "$build" -j"$jobs" --target integration_tests
# The abandoned-connections tests open a few thousand sockets at once.
ulimit -n 20000 2>/dev/null || true
"$build"/tests/integration_tests \
  --gtest_filter='AbandonedConnections.*:NativeServerHostile.*:NativeClientHostile.*:ProfileHostileServer.*:WebSocketServerHostile.*:WebSocketClientHostile.*'
