#!/usr/bin/env bash
# Installs the Debian 12 packages heartbeat needs to build, test and benchmark, and the npm
# packages of the WebSocket interop tests. Installs only what is missing; says what it does.
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config
  libboost1.81-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libcli11-dev
  haproxy iproute2 procps
  chromium
  redis-server mosquitto
  clang-14 libclang-rt-14-dev
  iptables conntrack
  gnuplot-nox prometheus libzmq3-dev
)
# Node.js runs the WebSocket interop peers (the `ws` package); any recent node will do.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  echo "install-deps: installing Debian packages: ${missing[*]}"
  if [[ $(id -u) -ne 0 ]]; then
    SUDO=sudo
  else
    SUDO=
  fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "install-deps: all Debian packages present"
fi

# npm packages for the WebSocket interop tests (tests/interop/package.json), when present.
here=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -f "$here/tests/interop/package-lock.json" ]]; then
  # Also when the lock file changed since the last install (a package was added, e.g.
  # playwright-core for the status page test): npm records what it installed in
  # node_modules/.package-lock.json.
  if [[ ! -d "$here/tests/interop/node_modules" ||
        "$here/tests/interop/package-lock.json" -nt "$here/tests/interop/node_modules/.package-lock.json" ]]; then
    echo "install-deps: npm ci in tests/interop"
    (cd "$here/tests/interop" && npm ci --no-audit --no-fund --loglevel=error)
  fi
fi
