#pragma once
// A histogram with fixed, log-spaced bucket bounds (1, 2.5, 5 per decade) and relaxed atomic
// counts: observing is a short scan over integer bounds and two atomic adds, no lock, no
// allocation, from any thread. Bounds are in nanoseconds internally and rendered in seconds.
#include <heartbeat/core/clock.hpp>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace heartbeat::metrics {

// Round trips: 100 us to 10 s.
inline constexpr std::array<double, 16> rtt_bucket_bounds = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
    0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
// Time to detect (last proof of life to verdict): 10 ms to 500 s.
inline constexpr std::array<double, 15> detection_bucket_bounds = {
    0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500};

template <std::size_t N>
class atomic_histogram {
public:
    explicit constexpr atomic_histogram(const std::array<double, N>& bounds_seconds) noexcept
        : bounds_seconds_(bounds_seconds) {
        for (std::size_t i = 0; i < N; ++i)
            bounds_ns_[i] = static_cast<std::int64_t>(bounds_seconds[i] * 1e9 + 0.5);
    }

    void observe(duration d) noexcept {
        const std::int64_t ns = std::chrono::duration_cast<nanoseconds>(d).count();
        std::size_t i = 0;
        while (i < N && ns > bounds_ns_[i]) // le: a value on a bound falls in that bucket
            ++i;
        counts_[i].fetch_add(1, std::memory_order_relaxed); // i == N: the +Inf bucket
        sum_ns_.fetch_add(ns, std::memory_order_relaxed);
    }

    const std::array<double, N>& bounds() const noexcept { return bounds_seconds_; }
    // Not cumulative: counts of bucket i (i == N: above the last bound).
    std::uint64_t bucket(std::size_t i) const noexcept {
        return counts_[i].load(std::memory_order_relaxed);
    }
    std::int64_t sum_ns() const noexcept { return sum_ns_.load(std::memory_order_relaxed); }

private:
    std::array<double, N> bounds_seconds_;
    std::array<std::int64_t, N> bounds_ns_{};
    std::array<std::atomic<std::uint64_t>, N + 1> counts_{};
    std::atomic<std::int64_t> sum_ns_{0};
};

} // namespace heartbeat::metrics
