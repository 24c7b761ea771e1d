#pragma once
// A metrics snapshot as text: the Prometheus text exposition format 0.0.4 (serve it with
// Content-Type "text/plain; version=0.0.4") and JSON. The family names, labels and units are
// listed in docs/observability.md; they are an interface (dashboards, alerts): never rename.
#include <heartbeat/metrics/metrics_snapshot.hpp>

#include <string>

namespace heartbeat::metrics {

// One `# HELP` and `# TYPE` per family, then its samples; counters end in _total, durations
// are in seconds, histograms have cumulative _bucket{le=...}, _sum and _count. Empty label
// values are left out; label values are escaped (\\, \", \n).
std::string render_prometheus(const metrics_snapshot& snapshot);

// {"series":[{"labels":{...},"pings_sent":N,...,"rtt_seconds":{"buckets":[[le,count]...],
// "sum":S,"count":N}}]}; bucket counts are cumulative as in Prometheus, the last le is "+Inf".
std::string render_json(const metrics_snapshot& snapshot);

} // namespace heartbeat::metrics
