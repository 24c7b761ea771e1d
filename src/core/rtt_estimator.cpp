#include <heartbeat/core/rtt_estimator.hpp>

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>

namespace heartbeat {

std::size_t rtt_estimator::bucket_of(std::int64_t ns) noexcept {
    constexpr std::uint64_t lowest = std::uint64_t{1} << lowest_exponent;
    constexpr std::uint64_t highest = (std::uint64_t{1} << highest_exponent) - 1;
    const std::uint64_t v = std::clamp(static_cast<std::uint64_t>(ns), lowest, highest);
    const unsigned exponent = static_cast<unsigned>(std::bit_width(v)) - 1;
    const unsigned shift = exponent - sub_bucket_bits;
    // The leading one bit is implied by the exponent; the next four select the sub-bucket.
    const std::uint64_t sub = (v >> shift) & ((std::uint64_t{1} << sub_bucket_bits) - 1);
    return (std::size_t{exponent - lowest_exponent} << sub_bucket_bits) + sub;
}

std::int64_t rtt_estimator::bucket_middle(std::size_t index) noexcept {
    const unsigned exponent = lowest_exponent + static_cast<unsigned>(index >> sub_bucket_bits);
    const std::uint64_t sub = index & ((std::size_t{1} << sub_bucket_bits) - 1);
    const unsigned shift = exponent - sub_bucket_bits;
    const std::uint64_t lower = ((std::uint64_t{1} << sub_bucket_bits) + sub) << shift;
    const std::uint64_t width = std::uint64_t{1} << shift;
    return static_cast<std::int64_t>(lower + width / 2);
}

void rtt_estimator::add_sample(duration rtt) {
    if (rtt < duration::zero())
        rtt = duration::zero();

    if (samples_ == 0) {
        srtt_ = rtt;
        rttvar_ = rtt / 2;
    } else {
        const duration err = srtt_ > rtt ? srtt_ - rtt : rtt - srtt_;
        // Written as x - x/4 + e/4 rather than (3x + e)/4 so huge samples cannot overflow.
        rttvar_ = rttvar_ - rttvar_ / 4 + err / 4;
        srtt_ = srtt_ - srtt_ / 8 + rtt / 8;
    }

    ++samples_;
    last_ = rtt;
    min_ = std::min(min_, rtt);
    max_ = std::max(max_, rtt);

    const auto index = static_cast<std::uint16_t>(bucket_of(rtt.count()));
    auto it = std::lower_bound(buckets_.begin(), buckets_.end(), index,
                               [](const bucket& b, std::uint16_t i) { return b.index < i; });
    if (it == buckets_.end() || it->index != index)
        it = buckets_.insert(it, bucket{index, 0});
    if (it->count == std::numeric_limits<std::uint16_t>::max()) [[unlikely]] {
        histogram_total_ = 0;
        for (auto& b : buckets_) {
            b.count = static_cast<std::uint16_t>(b.count / 2 + (b.count & 1)); // rare ones stay
            histogram_total_ += b.count;
        }
    }
    ++it->count;
    ++histogram_total_;
}

duration rtt_estimator::rto(duration floor) const noexcept {
    if (samples_ == 0)
        return floor;
    const duration headroom = duration::max() - srtt_;
    const duration rto = rttvar_ > headroom / 4 ? duration::max() : srtt_ + 4 * rttvar_;
    return std::max(floor, rto);
}

duration rtt_estimator::percentile(double p) const noexcept {
    if (histogram_total_ == 0)
        return duration::zero();
    if (!(p >= 0.0)) // also catches NaN
        p = 0.0;
    p = std::min(p, 100.0);
    // Nearest-rank definition: the smallest value with at least p% of the samples at or below.
    const double exact_rank = std::ceil(p / 100.0 * static_cast<double>(histogram_total_));
    const std::uint64_t rank = std::max<std::uint64_t>(1, static_cast<std::uint64_t>(exact_rank));
    // The extremes are tracked exactly; only the interior needs the histogram.
    if (rank == 1)
        return min_;
    if (rank >= histogram_total_)
        return max_;

    std::uint64_t seen = 0;
    for (const bucket& b : buckets_) {
        seen += b.count;
        if (seen >= rank)
            return std::clamp(duration(bucket_middle(b.index)), min_, max_);
    }
    return max_; // unreachable: the counts add up to histogram_total_ > rank
}

void rtt_estimator::reset() noexcept {
    *this = rtt_estimator{};
}

rtt_snapshot snapshot(const rtt_estimator& rtt) noexcept {
    rtt_snapshot s;
    s.samples = rtt.samples();
    s.last = rtt.last();
    s.min = rtt.min();
    s.max = rtt.max();
    s.srtt = rtt.srtt();
    s.rttvar = rtt.rttvar();
    s.p50 = rtt.percentile(50);
    s.p90 = rtt.percentile(90);
    s.p99 = rtt.percentile(99);
    return s;
}

} // namespace heartbeat
