#pragma once
// One metrics series: every counter, gauge and histogram of one label set. Created once by the
// registry when a session, endpoint or peer registers; afterwards reporters only touch it
// through these members, which are relaxed atomics on fixed storage: no lock, no allocation,
// safe from any thread. Its address is stable for the registry's lifetime.
#include <heartbeat/core/clock.hpp>
#include <heartbeat/metrics/atomic_histogram.hpp>
#include <heartbeat/metrics/series_labels.hpp>

#include <atomic>
#include <cstdint>
#include <string_view>

namespace heartbeat::metrics {

class series {
public:
    explicit series(series_labels labels) : labels_(std::move(labels)) {}
    series(const series&) = delete;
    series& operator=(const series&) = delete;

    const series_labels& labels() const noexcept { return labels_; }

    // --- the heartbeat path -------------------------------------------------------------------
    void add_pings_sent(std::uint64_t n) noexcept { add(pings_sent_, n); }
    void add_pongs_received(std::uint64_t n) noexcept { add(pongs_received_, n); }
    void add_pongs_missed(std::uint64_t n) noexcept { add(pongs_missed_, n); }
    void observe_rtt(duration rtt) noexcept {
        rtt_.observe(rtt);
        last_rtt_ns_.store(std::chrono::duration_cast<nanoseconds>(rtt).count(),
                           std::memory_order_relaxed);
    }

    // --- rarer events -------------------------------------------------------------------------
    // `reason` is one of verdict_reasons (anything else is not counted: not a verdict).
    void count_verdict(std::string_view reason) noexcept {
        for (std::size_t i = 0; i < verdict_reason_count; ++i)
            if (reason == verdict_reasons[i])
                add(verdicts_[i], 1);
    }
    // A verdict after `silence` without proof of life; the peer is suspicious if it answers
    // again on this series before `now + window`.
    void observe_detection(duration silence, time_point now, duration window) noexcept {
        detection_.observe(silence);
        suspicious_until_.store((now + window).time_since_epoch().count(),
                                std::memory_order_relaxed);
    }
    // The first pong of a session on this series: counts a suspicious verdict when it comes
    // within the window of the last verdict here (each verdict is counted at most once).
    void first_pong(time_point now) noexcept {
        auto until = suspicious_until_.load(std::memory_order_relaxed);
        if (until != 0 && now.time_since_epoch().count() <= until &&
            suspicious_until_.compare_exchange_strong(until, 0, std::memory_order_relaxed))
            add(suspicious_, 1);
    }
    void add_reconnects(std::uint64_t n) noexcept { add(reconnects_, n); }
    void add_failovers(std::uint64_t n) noexcept { add(failovers_, n); }
    void add_failbacks(std::uint64_t n) noexcept { add(failbacks_, n); }
    void session_opened() noexcept { sessions_open_.fetch_add(1, std::memory_order_relaxed); }
    void session_closed() noexcept { sessions_open_.fetch_sub(1, std::memory_order_relaxed); }
    void set_state(endpoint_state s) noexcept {
        state_.store(static_cast<std::uint8_t>(s), std::memory_order_relaxed);
    }

    // --- reading (snapshot) -------------------------------------------------------------------
    std::uint64_t pings_sent() const noexcept { return get(pings_sent_); }
    std::uint64_t pongs_received() const noexcept { return get(pongs_received_); }
    std::uint64_t pongs_missed() const noexcept { return get(pongs_missed_); }
    std::uint64_t verdicts(std::size_t reason_index) const noexcept {
        return get(verdicts_[reason_index]);
    }
    std::uint64_t reconnects() const noexcept { return get(reconnects_); }
    std::uint64_t failovers() const noexcept { return get(failovers_); }
    std::uint64_t failbacks() const noexcept { return get(failbacks_); }
    std::uint64_t suspicious_verdicts() const noexcept { return get(suspicious_); }
    std::int64_t sessions_open() const noexcept {
        return sessions_open_.load(std::memory_order_relaxed);
    }
    endpoint_state state() const noexcept {
        return static_cast<endpoint_state>(state_.load(std::memory_order_relaxed));
    }
    // Negative: no round trip measured yet.
    std::int64_t last_rtt_ns() const noexcept {
        return last_rtt_ns_.load(std::memory_order_relaxed);
    }
    const atomic_histogram<rtt_bucket_bounds.size()>& rtt() const noexcept { return rtt_; }
    const atomic_histogram<detection_bucket_bounds.size()>& detection() const noexcept {
        return detection_;
    }

private:
    static void add(std::atomic<std::uint64_t>& c, std::uint64_t n) noexcept {
        c.fetch_add(n, std::memory_order_relaxed);
    }
    static std::uint64_t get(const std::atomic<std::uint64_t>& c) noexcept {
        return c.load(std::memory_order_relaxed);
    }

    const series_labels labels_;
    std::atomic<std::uint64_t> pings_sent_{0}, pongs_received_{0}, pongs_missed_{0}, reconnects_{0},
        failovers_{0}, failbacks_{0}, suspicious_{0};
    std::array<std::atomic<std::uint64_t>, verdict_reason_count> verdicts_{};
    std::atomic<std::int64_t> sessions_open_{0};
    std::atomic<std::uint8_t> state_{0};
    std::atomic<std::int64_t> last_rtt_ns_{-1};
    std::atomic<clock::rep> suspicious_until_{0}; // steady-clock ticks; 0 = no recent verdict
    atomic_histogram<rtt_bucket_bounds.size()> rtt_{rtt_bucket_bounds};
    atomic_histogram<detection_bucket_bounds.size()> detection_{detection_bucket_bounds};
};

} // namespace heartbeat::metrics
