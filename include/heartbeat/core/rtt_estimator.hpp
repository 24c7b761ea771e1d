#pragma once
// Round-trip time statistics from ping/pong pairs: the RFC 6298 smoothed estimate that drives
// the adaptive pong timeout, plus min/max/last and percentiles for metrics.
//
// Percentiles come from a fixed-memory log-linear histogram (HdrHistogram's layout): each
// power of two between 2^10 ns (~1 µs) and 2^40 ns (~1100 s) is split into 16 equal
// sub-buckets, and a percentile reports the middle of its bucket, so the relative error is at
// most 1/32 (~3.1%). Samples outside that range are counted in the nearest end bucket. The
// lowest and highest ranks report the exactly tracked min() and max(), and every other
// percentile is clamped into [min(), max()], so results stay sensible below 1 µs.
//
// The histogram is sparse (as Prometheus' native histograms are): only buckets that hold
// samples are stored, as (bucket, count) pairs sorted by bucket. One session's round trips
// cluster in a few octaves, so it typically keeps tens of buckets (a few hundred bytes at
// most) instead of all 480; the worst case, samples in every bucket, is 1.9 KB. add_sample
// allocates only when a sample lands in a bucket never seen before and the storage is full.
#include <heartbeat/core/clock.hpp>

#include <cstdint>
#include <vector>

namespace heartbeat {

class rtt_estimator {
public:
    // Negative samples (clock adjustments, bogus echoed timestamps) count as 0.
    // Throws std::bad_alloc only when a new bucket cannot be stored.
    void add_sample(duration rtt);

    std::uint64_t samples() const noexcept { return samples_; }
    // All of the following are 0 when there are no samples.
    duration last() const noexcept { return last_; }
    duration min() const noexcept { return samples_ == 0 ? duration::zero() : min_; }
    duration max() const noexcept { return max_; }
    // RFC 6298 section 2: the first sample R sets srtt = R, rttvar = R/2; each later one does
    // rttvar = 3/4 rttvar + 1/4 |srtt - R|, then srtt = 7/8 srtt + 1/8 R.
    duration srtt() const noexcept { return srtt_; }
    duration rttvar() const noexcept { return rttvar_; }
    // max(floor, srtt + 4 rttvar), saturating; `floor` when there are no samples.
    duration rto(duration floor) const noexcept;
    // p in [0, 100] (out-of-range values are clamped); 0 when there are no samples.
    duration percentile(double p) const noexcept;

    void reset() noexcept;

    // Histogram buckets holding samples (what the sparse storage costs: 4 bytes each).
    std::size_t buckets_in_use() const noexcept { return buckets_.size(); }

private:
    static constexpr unsigned sub_bucket_bits = 4;   // 16 sub-buckets per power of two
    static constexpr unsigned lowest_exponent = 10;  // 2^10 ns ~ 1 µs
    static constexpr unsigned highest_exponent = 40; // 2^40 ns ~ 1100 s (exclusive)
    static constexpr std::size_t bucket_count = std::size_t{highest_exponent - lowest_exponent}
                                                << sub_bucket_bits;
    static_assert(bucket_count <= 65536, "bucket indexes are 16-bit");

    static std::size_t bucket_of(std::int64_t ns) noexcept;
    static std::int64_t bucket_middle(std::size_t index) noexcept;

    std::uint64_t samples_ = 0;
    duration last_{};
    duration min_ = duration::max();
    duration max_{};
    duration srtt_{};
    duration rttvar_{};
    // When a counter reaches 65535 every counter is halved, which keeps the distribution's
    // shape and ages old samples.
    struct bucket {
        std::uint16_t index;
        std::uint16_t count;
    };
    std::uint64_t histogram_total_ = 0;
    std::vector<bucket> buckets_; // sorted by index; only buckets with samples
};

struct rtt_snapshot {
    std::uint64_t samples = 0;
    duration last{}, min{}, max{}, srtt{}, rttvar{}, p50{}, p90{}, p99{};
};

rtt_snapshot snapshot(const rtt_estimator& rtt) noexcept;

} // namespace heartbeat
