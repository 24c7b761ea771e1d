#include <heartbeat/core/backoff.hpp>

#include <algorithm>
#include <cmath>
#include <limits>
#include <utility>

namespace heartbeat {
namespace {

double to_ns(duration d) noexcept {
    return static_cast<double>(d.count());
}

duration from_ns(double ns) noexcept {
    // duration::max() is not exactly representable as a double; compare before converting.
    if (!(ns > 0.0))
        return duration::zero();
    if (ns >= to_ns(duration::max()))
        return duration::max();
    return duration(static_cast<duration::rep>(std::llround(ns)));
}

double initial_base(const backoff_config& cfg) noexcept {
    return std::clamp(to_ns(cfg.initial), 0.0, std::max(0.0, to_ns(cfg.max)));
}

} // namespace

backoff::backoff(backoff_config cfg, uniform_source rng)
    : cfg_(cfg), rng_(rng ? std::move(rng) : default_uniform_source()),
      base_ns_(initial_base(cfg_)) {}

duration backoff::current_base() const noexcept {
    return from_ns(base_ns_);
}

duration backoff::next_delay() {
    const double base = base_ns_;
    const double max = std::max(0.0, to_ns(cfg_.max));
    // A misbehaving source must not push the delay outside its documented range.
    const double u = std::clamp(rng_(), 0.0, 1.0);

    double delay = 0.0;
    if (cfg_.mode == backoff_jitter::proportional)
        delay = std::clamp(base * (1.0 + cfg_.jitter * (2.0 * u - 1.0)), 0.0, max);
    else
        delay = base * u;

    if (attempts_ != std::numeric_limits<unsigned>::max())
        ++attempts_;
    base_ns_ = std::min(base_ns_ * cfg_.multiplier, max);
    return from_ns(delay);
}

void backoff::reset() noexcept {
    attempts_ = 0;
    base_ns_ = initial_base(cfg_);
}

void backoff::on_session_lived(duration lived) noexcept {
    if (lived >= cfg_.reset_after)
        reset();
}

} // namespace heartbeat
