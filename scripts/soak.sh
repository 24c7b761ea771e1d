#!/usr/bin/env bash
# The bounded soak test (issue 13): 1,000 heartbeat::client sessions streaming numbered
# messages against 8 server processes that are SIGKILLed/restarted and SIGSTOPped/thawed at
# random; checks zero false verdicts, zero lost messages, client RSS flat (within 5 %).
#
# Usage: scripts/soak.sh [--duration SECONDS] [--sessions N] [other hb_soak options]
#   Default 600 s (10 min); CI runs 60 s through ctest (-L soak). Builds only what it needs
#   in $BUILD_DIR (default build/). Prints a summary table; exit status 0 when every check passed.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${BUILD_DIR:-build}
duration=600
sessions=1000
extra=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --duration) duration=${2:?--duration needs a value}; shift 2 ;;
    --sessions) sessions=${2:?--sessions needs a value}; shift 2 ;;
    *) extra+=("$1"); shift ;;
  esac
done
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DHEARTBEAT_BUILD_BENCHMARKS=OFF -DHEARTBEAT_BUILD_EXAMPLES=OFF -DHEARTBEAT_BUILD_TOOLS=OFF
fi
cmake --build "$build" -j2 --target hb_soak hb_soak_peer
# The run bounds itself (duration + at most 90 s drain + 20 s close); timeout is the backstop.
ulimit -n 20000 2>/dev/null || true
exec timeout --signal=KILL "$((${duration%.*} + 300))" \
  "$build/tests/soak/hb_soak" --duration "$duration" --sessions "$sessions" \
  --peer "$build/tests/soak/hb_soak_peer" "${extra[@]}"
