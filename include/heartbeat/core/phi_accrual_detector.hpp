#pragma once
// The phi accrual failure detector (Hayashibara et al., 2004, as tuned by Akka and Cassandra).
// Instead of a yes/no timeout it reports phi = -log10(P(a heartbeat arrives even later)), where
// the silence lengths that ended in a heartbeat are modelled as a normal distribution. phi = 1
// means a 10% chance the peer is merely slow, phi = 8 one in 10^8.
//
// Model details:
//  * The window holds the last `window_size` silences that a heartbeat ended (record_alive),
//    each measured from the previous sign of life of any kind. Other traffic (record_activity)
//    ends a silence without becoming a sample: data arriving in bursts says nothing about the
//    heartbeat cadence, yet after a long stream of data the next heartbeat still comes one quiet
//    interval after the last data frame, not after the last heartbeat.
//  * phi uses mean + acceptable_pause and max(std-dev, min_std_deviation). Mean and variance are
//    kept with a sliding-window Welford update, so record_alive is O(1) and allocation-free.
//  * Bootstrap (as Akka): reset(now) seeds the window with first_interval_estimate * (1 ± 1/4),
//    a prior with that mean and a quarter of it as std-dev, so phi is meaningful before the first
//    real sample; real samples push the seeds out of the window.
//  * P_later uses the exact normal tail, 0.5 * erfc(z / sqrt 2), switching to its asymptotic
//    series far out where erfc underflows: phi stays finite and increasing for any silence.
#include <heartbeat/core/config.hpp>
#include <heartbeat/core/failure_detector.hpp>

#include <cstddef>
#include <vector>

namespace heartbeat {

class phi_accrual_detector final : public failure_detector {
public:
    // Precondition: validate(cfg) found nothing. Allocates the window; nothing else does.
    explicit phi_accrual_detector(phi_accrual_config cfg, time_point now = time_point{});

    void record_alive(time_point now) override;
    void record_activity(time_point now) override;
    // No effect. phi already grows with every moment of silence since the last sign of life; a
    // missed pong deadline is that same silence seen again, and counting it would add evidence
    // that is not independent. Nor is it an inter-arrival sample: nothing arrived.
    void record_missed(time_point now) override;
    void forgive(duration lag) override;
    health assess(time_point now) const override;
    // The first instant (to the nanosecond) at which assess() returns the next, worse state;
    // time_point::max() when already dead.
    time_point next_change(time_point now) const override;
    void reset(time_point now) override;

    // Suspicion level at `now`: 0 right after a sign of life, growing with silence.
    double phi(time_point now) const;
    // Statistics of the window as sampled (bootstrap seeds included while still in it); phi
    // adds acceptable_pause to the mean and floors the std-dev at min_std_deviation.
    double mean_ms() const noexcept { return mean_; }
    double std_dev_ms() const noexcept;
    // Silences in the window, bootstrap seeds included; at most max(window_size, 2).
    std::size_t sample_count() const noexcept { return count_; }
    // Last sign of life, shifted forward by forgiven stalls.
    time_point last_arrival() const noexcept { return last_arrival_; }
    const phi_accrual_config& config() const noexcept { return cfg_; }

private:
    void push(double interval_ms) noexcept;
    double phi_at_offset(duration since_last) const noexcept;
    time_point crossing(double threshold, double z_threshold, time_point now) const;

    phi_accrual_config cfg_;
    // z at which phi equals each threshold, solved once: phi depends on t only through z.
    double z_suspect_;
    double z_dead_;
    std::vector<double> window_; // ring buffer of silences in ms, sized once
    std::size_t head_ = 0;       // oldest entry when full
    std::size_t count_ = 0;
    double mean_ = 0.0;
    double m2_ = 0.0; // sum of squared deviations from mean_
    time_point last_arrival_{};
};

} // namespace heartbeat
