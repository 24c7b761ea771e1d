#!/usr/bin/env bash
# Scale harness (issue 14, item 1): CPU per heartbeat and memory per session of heartbeat's
# tcp_server/tcp_session and of its session_pool against a minimal raw Asio heartbeat loop, at
# 1k, 5k and 9k sessions.
#   benchmarks/scale/run_scale.sh [BUILD_DIR] [run_scale.py options]
# BUILD_DIR defaults to ./build; it must hold the scale_peer target
# (cmake --build BUILD_DIR --target scale_peer). Smoke run (~15 s):
#   benchmarks/scale/run_scale.sh build --sessions 200 --reps 1 --window 3 --warmup 1
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
build="${1:-$here/../../build}"
[[ $# -gt 0 ]] && shift
command -v python3 >/dev/null || { echo "run_scale: python3 is required" >&2; exit 2; }
command -v taskset >/dev/null || { echo "run_scale: taskset (util-linux) is required" >&2; exit 2; }
exec python3 "$here/run_scale.py" --bin "$build/benchmarks/scale/scale_peer" "$@"
