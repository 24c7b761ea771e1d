#!/usr/bin/env bash
# A real Prometheus scrapes `heartbeat watch --http`'s /metrics:
#   1. `heartbeat serve` and `heartbeat watch --http 127.0.0.1:0` on loopback;
#   2. Prometheus (a generated prometheus.yml scraping /metrics every 1 s, its TSDB and web port
#      in a temp dir / on a free loopback port) until heartbeat_rtt_seconds_count > 0;
#   3. the served peer frozen (SIGSTOP to the serve PID we started) until
#      heartbeat_verdicts_total > 0 in Prometheus.
# Fails when a series stays absent (or zero) past its bound, or when Prometheus reports the
# target down. Every process is ours and ended by PID (SIGCONT before SIGKILL); every wait is
# bounded. Prints the figures it measured.
#
#   prometheus_scrape_test.sh HEARTBEAT_BINARY [PROMETHEUS_BINARY]
# Exit: 0 pass, 1 fail, 77 skipped (no prometheus, unless HEARTBEAT_REQUIRE_INTEROP=1 or CI=true).
set -euo pipefail

heartbeat=${1:?usage: prometheus_scrape_test.sh HEARTBEAT_BINARY [PROMETHEUS_BINARY]}
prometheus=${2:-/usr/bin/prometheus}
if [[ ! -x $prometheus ]]; then
  if [[ ${HEARTBEAT_REQUIRE_INTEROP:-} == 1 || ${CI:-} == true ]]; then
    echo "FAIL: no prometheus at $prometheus (scripts/install-deps.sh installs it)"
    exit 1
  fi
  echo "SKIP: no prometheus at $prometheus"
  exit 77
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/heartbeat-prometheus.XXXXXX")
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    kill -CONT "$pid" 2>/dev/null || true
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*"
  for log in "$work"/*.log "$work"/*.out; do
    [[ -f $log ]] && { echo "--- $log (last lines)"; tail -n 15 "$log"; }
  done
  exit 1
}

now_ms() { date +%s%3N; }

# Waits (at most $2 seconds) for a JSON event named $1 in file $3; prints the line.
wait_event() {
  local event=$1 limit=$2 file=$3 deadline=$(($(date +%s) + $2))
  while (($(date +%s) < deadline)); do
    if line=$(grep -m1 "\"event\":\"$event\"" "$file" 2>/dev/null); then
      echo "$line"
      return 0
    fi
    sleep 0.1
  done
  return 1
}

address_of() { sed -n 's/.*"address":"\([^"]*\)".*/\1/p' <<<"$1"; }

# The largest sample value of an instant query, or nothing when the result is empty.
query_max() {
  curl -sf --max-time 2 "http://$prom_address/api/v1/query" --data-urlencode "query=$1" |
    grep -o '"value":\[[^]]*\]' | sed 's/.*,"\([^"]*\)"\]/\1/' | sort -g | tail -n1 || true
}

# Waits (at most $2 seconds) until the query $1 has a sample > 0.
wait_positive() {
  local deadline=$(($(date +%s) + $2)) v
  while (($(date +%s) < deadline)); do
    v=$(query_max "$1")
    if [[ -n $v ]] && awk -v v="$v" 'BEGIN { exit !(v > 0) }'; then
      echo "$v"
      return 0
    fi
    sleep 0.25
  done
  return 1
}

fast=(--interval 500ms --timeout 500ms --misses 3)
"$heartbeat" serve --listen 127.0.0.1:0 --json "${fast[@]}" >"$work/serve.out" 2>&1 &
serve_pid=$!
pids+=("$serve_pid")
serve_address=$(address_of "$(wait_event listening 10 "$work/serve.out")") || fail "serve did not listen"

"$heartbeat" watch "$serve_address" --json --http 127.0.0.1:0 "${fast[@]}" >"$work/watch.out" 2>&1 &
pids+=($!)
metrics_address=$(address_of "$(wait_event http_listening 10 "$work/watch.out")") ||
  fail "watch did not report http_listening"
curl -sf --max-time 2 "http://$metrics_address/metrics" | grep -q '^heartbeat_pongs_received_total' ||
  fail "/metrics has no heartbeat_pongs_received_total"

prom_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
prom_address=127.0.0.1:$prom_port
cat >"$work/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: heartbeat_watch
    static_configs:
      - targets: ['$metrics_address']
YML
started=$(now_ms)
"$prometheus" --config.file="$work/prometheus.yml" --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="$prom_address" --log.level=warn >"$work/prometheus.log" 2>&1 &
pids+=($!)

rtt_count=$(wait_positive 'heartbeat_rtt_seconds_count{job="heartbeat_watch"}' 40) ||
  fail "heartbeat_rtt_seconds_count absent or 0 in Prometheus after 40 s"
echo "heartbeat_rtt_seconds_count = $rtt_count in Prometheus $(($(now_ms) - started)) ms after it started"
up=$(query_max 'up{job="heartbeat_watch"}')
[[ $up == 1 ]] || fail "target not up (up=$up)"
for family in heartbeat_pings_sent_total heartbeat_pongs_received_total \
  heartbeat_failovers_total heartbeat_endpoint_state heartbeat_sessions_open \
  heartbeat_last_rtt_seconds; do
  [[ -n $(query_max "$family") ]] || fail "$family absent in Prometheus"
done
# Every reason's counter is exported from the start (at 0): none may be above 0 yet.
verdicts_before=$(query_max 'heartbeat_verdicts_total')
[[ -z $verdicts_before || $verdicts_before == 0 ]] ||
  fail "a verdict before the peer was frozen (heartbeat_verdicts_total = $verdicts_before)"

kill -STOP "$serve_pid"
frozen=$(now_ms)
verdicts=$(wait_positive 'heartbeat_verdicts_total{reason="peer_dead"}' 30) ||
  fail "heartbeat_verdicts_total absent or 0 in Prometheus 30 s after SIGSTOP"
echo "heartbeat_verdicts_total = $verdicts in Prometheus $(($(now_ms) - frozen)) ms after SIGSTOP"
state=$(query_max "heartbeat_endpoint_state{endpoint=\"$serve_address\",state=\"alive\"}")
[[ $state == 0 ]] || fail "the frozen endpoint is still alive in heartbeat_endpoint_state ($state)"
echo PASS
