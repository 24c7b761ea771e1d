#pragma once
// time_point + duration that stops at time_point::max() instead of overflowing, for deadlines
// computed from configured durations.
#include <heartbeat/core/clock.hpp>

namespace heartbeat {

constexpr time_point saturating_add(time_point t, duration d) noexcept {
    if (d > duration::zero() && t > time_point::max() - d)
        return time_point::max();
    return t + d;
}

} // namespace heartbeat
