#pragma once
// heartbeat::metrics::registry: where sessions, clients and servers report when their config
// holds `std::shared_ptr<metrics::registry> metrics` (null, the default, reports nothing).
//
// Series are created once, when a session, endpoint or peer registers (resolve()); the
// heartbeat path then only touches the returned series through relaxed atomics, so reporting
// allocates nothing and takes no lock. Cardinality is bounded: at most max_peer_series series
// with a `peer` label; later peers share the series with peer="_other".
//
// Thread-safe. Own it with a shared_ptr (every config that reports into it holds one), so the
// series outlive every reporter.
#include <heartbeat/metrics/metrics_snapshot.hpp>
#include <heartbeat/metrics/series.hpp>

#include <cstddef>
#include <map>
#include <memory>
#include <mutex>

namespace heartbeat::metrics {

struct registry_options {
    // Distinct `peer` label values kept; further peers aggregate into peer="_other".
    std::size_t max_peer_series = 100;
    // A peer declared dead that answers again on the same series within this many times its
    // silence budget makes the verdict suspicious (heartbeat_suspicious_verdicts_total).
    double suspicious_window_factor = 2.0;
};

class registry {
public:
    explicit registry(registry_options options = {}) : options_(options) {}
    static std::shared_ptr<registry> create(registry_options options = {}) {
        return std::make_shared<registry>(options);
    }
    registry(const registry&) = delete;
    registry& operator=(const registry&) = delete;

    // The series of `labels`, created on first use. The reference stays valid as long as the
    // registry lives. Takes a lock and may allocate: call when registering, not per heartbeat.
    series& resolve(const series_labels& labels);

    // Every series' values now (each value read atomically; the set is not one instant).
    metrics_snapshot snapshot() const;

    const registry_options& options() const noexcept { return options_; }
    std::size_t series_count() const;

private:
    const registry_options options_;
    mutable std::mutex mutex_;
    std::map<series_labels, std::unique_ptr<series>> series_;
    std::size_t peer_series_ = 0; // series with a real peer label (not "_other")
};

} // namespace heartbeat::metrics
