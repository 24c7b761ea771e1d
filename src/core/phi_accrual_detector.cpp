#include <heartbeat/core/phi_accrual_detector.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

namespace heartbeat {
namespace {

double to_ms(duration d) noexcept {
    return std::chrono::duration<double, std::milli>(d).count();
}

// phi for a silence `z` standard deviations above the mean: -log10(0.5 * erfc(z / sqrt 2)).
double phi_of_z(double z) noexcept {
    const double y = z / std::numbers::sqrt2;
    // erfc(20) ~ 5e-176 is still a normal double; beyond, it heads for underflow.
    if (y < 20.0)
        return std::max(0.0, -std::log10(0.5 * std::erfc(y)));
    // erfc(y) = exp(-y^2) / (y sqrt(pi)) * (1 - 1/(2y^2) + 3/(4y^4) - 15/(8y^6) + ...); at
    // y >= 20 the first omitted term is below 1e-9, so the switch is seamless.
    const double inv2 = 1.0 / (y * y);
    const double series =
        1.0 - inv2 / 2.0 + 3.0 * inv2 * inv2 / 4.0 - 15.0 * inv2 * inv2 * inv2 / 8.0;
    const double ln_erfc =
        -y * y - std::log(y) - 0.5 * std::log(std::numbers::pi) + std::log(series);
    return -(std::log(0.5) + ln_erfc) / std::numbers::ln10;
}

// The z at which phi reaches `threshold`, by bisection on the increasing phi_of_z.
double z_for(double threshold) noexcept {
    if (!(threshold > 0.0))
        return -std::numeric_limits<double>::infinity();
    double lo = -50.0; // phi rounds to 0 there: below any positive threshold
    double hi = 1.0;
    while (phi_of_z(hi) < threshold && hi < 1e300)
        hi *= 2.0;
    for (int i = 0; i < 200; ++i) {
        const double mid = lo + (hi - lo) / 2.0;
        if (mid <= lo || mid >= hi)
            break;
        (phi_of_z(mid) < threshold ? lo : hi) = mid;
    }
    return hi;
}

duration doubled(duration step) noexcept {
    return step > duration::max() / 2 ? duration::max() : step * 2;
}

} // namespace

phi_accrual_detector::phi_accrual_detector(phi_accrual_config cfg, time_point now)
    : cfg_(cfg), z_suspect_(z_for(cfg.suspect_threshold)), z_dead_(z_for(cfg.dead_threshold)),
      window_(std::max<std::size_t>(cfg.window_size, 2)) {
    reset(now);
}

void phi_accrual_detector::reset(time_point now) {
    head_ = 0;
    count_ = 0;
    mean_ = 0.0;
    m2_ = 0.0;
    const double first = to_ms(cfg_.first_interval_estimate);
    push(first - first / 4.0);
    push(first + first / 4.0);
    last_arrival_ = now;
}

void phi_accrual_detector::push(double x) noexcept {
    const std::size_t capacity = window_.size();
    if (count_ < capacity) {
        window_[(head_ + count_) % capacity] = x;
        ++count_;
        const double delta = x - mean_;
        mean_ += delta / static_cast<double>(count_);
        m2_ += delta * (x - mean_);
    } else {
        // Replace the oldest sample: the sliding-window form of Welford's update.
        const double old = window_[head_];
        window_[head_] = x;
        head_ = (head_ + 1) % capacity;
        const double old_mean = mean_;
        mean_ += (x - old) / static_cast<double>(count_);
        m2_ += (x - old) * (x - mean_ + old - old_mean);
    }
    // Rounding can leave a hair below zero after evicting an outlier.
    m2_ = std::max(m2_, 0.0);
}

void phi_accrual_detector::record_alive(time_point now) {
    push(std::max(0.0, to_ms(now - last_arrival_)));
    last_arrival_ = std::max(last_arrival_, now);
}

void phi_accrual_detector::record_activity(time_point now) {
    last_arrival_ = std::max(last_arrival_, now);
}

void phi_accrual_detector::record_missed(time_point) {}

void phi_accrual_detector::forgive(duration lag) {
    if (lag > duration::zero())
        last_arrival_ += lag;
}

double phi_accrual_detector::std_dev_ms() const noexcept {
    return count_ == 0 ? 0.0 : std::sqrt(m2_ / static_cast<double>(count_));
}

double phi_accrual_detector::phi_at_offset(duration since_last) const noexcept {
    const double mean = mean_ + to_ms(cfg_.acceptable_pause);
    const double sd = std::max(std_dev_ms(), to_ms(cfg_.min_std_deviation));
    if (!(sd > 0.0)) // only with an invalid config: a zero-width distribution is a step
        return to_ms(since_last) > mean ? std::numeric_limits<double>::max() : 0.0;
    return phi_of_z((to_ms(since_last) - mean) / sd);
}

double phi_accrual_detector::phi(time_point now) const {
    return phi_at_offset(now - last_arrival_);
}

health phi_accrual_detector::assess(time_point now) const {
    const double p = phi(now);
    if (p >= cfg_.dead_threshold)
        return health::dead;
    if (p >= cfg_.suspect_threshold)
        return health::suspect;
    return health::alive;
}

time_point phi_accrual_detector::crossing(double threshold, double z_threshold,
                                          time_point now) const {
    // Start from the closed form t = last + mean + z * sd, then bracket and bisect on phi itself,
    // so the answer agrees with assess() to the nanosecond despite rounding in the closed form.
    if (now == time_point::max())
        return now;
    const double mean = mean_ + to_ms(cfg_.acceptable_pause);
    const double sd = std::max(std_dev_ms(), to_ms(cfg_.min_std_deviation));
    const double guess_ns = static_cast<double>(last_arrival_.time_since_epoch().count()) +
                            (mean + z_threshold * sd) * 1e6;
    const double now_ns = static_cast<double>(now.time_since_epoch().count());
    constexpr double max_ns = static_cast<double>(std::numeric_limits<duration::rep>::max());
    time_point guess;
    if (!(guess_ns > now_ns)) // also a NaN guess
        guess = now + nanoseconds(1);
    else if (guess_ns >= max_ns)
        guess = time_point::max();
    else
        guess = std::max(time_point(duration(static_cast<duration::rep>(guess_ns))),
                         now + nanoseconds(1));

    // Invariant once bracketed: phi(lo) < threshold <= phi(hi), now <= lo < hi.
    time_point lo = now;
    time_point hi = guess;
    duration step = nanoseconds(1);
    if (phi(guess) >= threshold) {
        while (hi - now > step) {
            const time_point below = hi - step;
            if (phi(below) < threshold) {
                lo = below;
                break;
            }
            hi = below;
            step = doubled(step);
        }
    } else {
        lo = guess;
        while (true) {
            if (time_point::max() - lo <= step) {
                if (phi(time_point::max()) < threshold)
                    return time_point::max();
                hi = time_point::max();
                break;
            }
            const time_point above = lo + step;
            if (phi(above) >= threshold) {
                hi = above;
                break;
            }
            lo = above;
            step = doubled(step);
        }
    }
    while (hi - lo > nanoseconds(1)) {
        const time_point mid = lo + (hi - lo) / 2;
        (phi(mid) >= threshold ? hi : lo) = mid;
    }
    return hi;
}

time_point phi_accrual_detector::next_change(time_point now) const {
    switch (assess(now)) {
    case health::dead:
        return time_point::max();
    case health::suspect:
        return crossing(cfg_.dead_threshold, z_dead_, now);
    case health::alive:
        break;
    }
    // With a dead threshold at or below the suspect one, alive goes straight to dead.
    if (cfg_.dead_threshold <= cfg_.suspect_threshold)
        return crossing(cfg_.dead_threshold, z_dead_, now);
    return crossing(cfg_.suspect_threshold, z_suspect_, now);
}

} // namespace heartbeat
