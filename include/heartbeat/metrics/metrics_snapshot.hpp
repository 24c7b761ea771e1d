#pragma once
// The registry's series as plain values at one moment: what the renderers turn into text, and
// what an application or a test can read (or build by hand) without touching atomics.
#include <heartbeat/metrics/series_labels.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace heartbeat::metrics {

struct histogram_snapshot {
    std::vector<double> upper_bounds;         // seconds, ascending; +Inf is implied
    std::vector<std::uint64_t> bucket_counts; // not cumulative; one more than upper_bounds (+Inf)
    double sum_seconds = 0;
    std::uint64_t count() const noexcept {
        std::uint64_t n = 0;
        for (auto c : bucket_counts)
            n += c;
        return n;
    }
};

struct verdict_count {
    std::string reason; // one of verdict_reasons
    std::uint64_t count = 0;
};

struct series_snapshot {
    series_labels labels;
    std::uint64_t pings_sent = 0;
    std::uint64_t pongs_received = 0;
    std::uint64_t pongs_missed = 0;
    std::vector<verdict_count> verdicts; // every reason, zeros included
    std::uint64_t reconnects = 0;
    std::uint64_t failovers = 0;
    std::uint64_t failbacks = 0;
    std::uint64_t suspicious_verdicts = 0;
    std::int64_t sessions_open = 0;
    endpoint_state state = endpoint_state::unknown; // client series only
    std::optional<double> last_rtt_seconds;         // none before the first round trip
    histogram_snapshot rtt_seconds;
    histogram_snapshot detection_seconds;
};

struct metrics_snapshot {
    std::vector<series_snapshot> series; // ordered by labels
};

} // namespace heartbeat::metrics
