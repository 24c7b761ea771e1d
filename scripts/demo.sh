#!/usr/bin/env bash
# Sets up, builds and runs the main demo.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
bash scripts/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"${HEARTBEAT_JOBS:-2}" --target heartbeat_cli
./build/tools/heartbeat demo
