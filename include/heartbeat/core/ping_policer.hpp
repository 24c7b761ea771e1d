#pragma once
// Server-side ping policing, as gRPC's "too_many_pings" and HTTP/2's ping-flood defence: a peer
// that pings sooner than 80% of our minimum interval earns a strike and is asked to slow down;
// one strike more than allowed ends the session. A ping at a proper distance clears the strikes,
// so a single burst (a reconnect storm, a clock hiccup) is forgiven. Sans-io: times come in.
#include <heartbeat/core/clock.hpp>

namespace heartbeat {

class ping_policer {
public:
    enum class ruling {
        accept,        // nothing to do
        slow_down,     // a strike: tell the peer our minimum interval (SLOW_DOWN)
        too_many_pings // strikes exhausted: end the session with error::too_many_pings
    };

    // min_interval zero disables policing (every ping is accepted).
    ping_policer(duration min_interval, unsigned max_strikes) noexcept
        : min_interval_(min_interval), max_strikes_(max_strikes) {}

    ruling on_peer_ping(time_point now) noexcept {
        if (min_interval_ <= duration::zero())
            return ruling::accept;
        ruling r = ruling::accept;
        if (seen_ && now - last_ < min_interval_ * 4 / 5) {
            if (++strikes_ > max_strikes_)
                return ruling::too_many_pings;
            r = ruling::slow_down;
        } else if (seen_) {
            strikes_ = 0;
        }
        last_ = now;
        seen_ = true;
        return r;
    }

    bool enabled() const noexcept { return min_interval_ > duration::zero(); }
    duration min_interval() const noexcept { return min_interval_; }
    unsigned strikes() const noexcept { return strikes_; }

private:
    duration min_interval_;
    unsigned max_strikes_;
    unsigned strikes_ = 0;
    bool seen_ = false;
    time_point last_{};
};

} // namespace heartbeat
