#include <heartbeat/metrics/registry.hpp>

namespace heartbeat::metrics {

const char* to_string(endpoint_state s) noexcept {
    if (s == endpoint_state::unknown)
        return "unknown";
    return endpoint_state_names[static_cast<std::size_t>(s) - 1];
}

series& registry::resolve(const series_labels& labels) {
    std::lock_guard lock(mutex_);
    if (auto it = series_.find(labels); it != series_.end())
        return *it->second;
    const bool real_peer = !labels.peer.empty() && labels.peer != other_peers;
    if (real_peer && peer_series_ >= options_.max_peer_series) {
        series_labels aggregated = labels;
        aggregated.peer = other_peers;
        auto& slot = series_[aggregated];
        if (!slot)
            slot = std::make_unique<series>(std::move(aggregated));
        return *slot;
    }
    if (real_peer)
        ++peer_series_;
    auto& slot = series_[labels];
    slot = std::make_unique<series>(labels);
    return *slot;
}

std::size_t registry::series_count() const {
    std::lock_guard lock(mutex_);
    return series_.size();
}

namespace {

template <std::size_t N>
histogram_snapshot snapshot_of(const atomic_histogram<N>& h) {
    histogram_snapshot out;
    out.upper_bounds.assign(h.bounds().begin(), h.bounds().end());
    out.bucket_counts.reserve(N + 1);
    for (std::size_t i = 0; i <= N; ++i)
        out.bucket_counts.push_back(h.bucket(i));
    out.sum_seconds = static_cast<double>(h.sum_ns()) / 1e9;
    return out;
}

series_snapshot snapshot_of(const series& s) {
    series_snapshot out;
    out.labels = s.labels();
    out.pings_sent = s.pings_sent();
    out.pongs_received = s.pongs_received();
    out.pongs_missed = s.pongs_missed();
    for (std::size_t i = 0; i < verdict_reason_count; ++i)
        out.verdicts.push_back({verdict_reasons[i], s.verdicts(i)});
    out.reconnects = s.reconnects();
    out.failovers = s.failovers();
    out.failbacks = s.failbacks();
    out.suspicious_verdicts = s.suspicious_verdicts();
    out.sessions_open = s.sessions_open();
    out.state = s.state();
    if (const auto ns = s.last_rtt_ns(); ns >= 0)
        out.last_rtt_seconds = static_cast<double>(ns) / 1e9;
    out.rtt_seconds = snapshot_of(s.rtt());
    out.detection_seconds = snapshot_of(s.detection());
    return out;
}

} // namespace

metrics_snapshot registry::snapshot() const {
    metrics_snapshot out;
    std::lock_guard lock(mutex_);
    out.series.reserve(series_.size());
    for (const auto& [labels, s] : series_)
        out.series.push_back(snapshot_of(*s));
    return out;
}

} // namespace heartbeat::metrics
