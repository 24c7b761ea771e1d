#!/usr/bin/env bash
# Network faults between real hosts in network namespaces (tests/netns): builds what the tests
# need (netns_tests, netns_sink, the heartbeat CLI) and runs them all in one process, which
# ends with the table of figures (verdict silence / budget, recovery time, messages sent /
# delivered / duplicated / lost per fault). Needs root (namespaces, veth, iptables, conntrack);
# exits 77 with the reason when namespaces cannot be made here.
#   HEARTBEAT_BUILD_DIR  build directory (default: build)
#   HEARTBEAT_JOBS       parallel build jobs (default: 2)
#   HEARTBEAT_NETNS_DEBUG=1  print the client's events (rtt aside) of each single-path drill
# Extra arguments go to the test binary (e.g. --gtest_filter='NatConntrack.*').
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${HEARTBEAT_BUILD_DIR:-build}
jobs=${HEARTBEAT_JOBS:-2}
prefix=hbnt-

# Namespaces of runs whose process is gone (a crash, a kill -9): "hbnt-<pid>-...".
remove_stale() {
  local name pid
  for name in $(ip netns list 2>/dev/null | awk '{print $1}'); do
    [[ $name == "$prefix"* ]] || continue
    pid=${name#"$prefix"}
    pid=${pid%%-*}
    if [[ $pid =~ ^[0-9]+$ ]] && ! kill -0 "$pid" 2>/dev/null; then
      ip netns del "$name" 2>/dev/null || true
    fi
  done
}

probe="${prefix}$$-probe"
if ! ip netns add "$probe" 2>/tmp/netns-probe.$$; then
  echo "netns-test: SKIPPED: cannot create a network namespace here (needs root, or"
  echo "  CAP_SYS_ADMIN + CAP_NET_ADMIN): $(cat /tmp/netns-probe.$$)"
  rm -f /tmp/netns-probe.$$
  exit 77
fi
ip netns del "$probe"
rm -f /tmp/netns-probe.$$

bash scripts/install-deps.sh
for tool in ip iptables conntrack sysctl; do
  command -v "$tool" >/dev/null || { echo "netns-test: $tool is missing" >&2; exit 1; }
done

remove_stale
# Whatever happens to the run, its namespaces go (the binary removes its own; this catches a
# crash of the binary itself).
trap remove_stale EXIT

echo "== build netns_tests =="
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$build" -j"$jobs" --target netns_tests
echo "== namespace fault tests =="
"$build/tests/netns/netns_tests" "$@"
