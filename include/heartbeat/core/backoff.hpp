#pragma once
// Reconnect backoff: exponential growth of a base delay, capped, with jitter so a fleet that lost
// the same server does not reconnect in lockstep.
//
// The n-th delay (n = 0, 1, ...) has base min(max, initial * multiplier^n) and is
//   full:         uniform in [0, base]                         (AWS "full jitter")
//   proportional: base * (1 + jitter * (2u - 1)), in [0, max]  (gRPC connection backoff)
// The base is kept as a double and clamped at max on every step, so thousands of attempts
// neither overflow nor lose the cap.
#include <heartbeat/core/clock.hpp>
#include <heartbeat/core/config.hpp>
#include <heartbeat/core/random.hpp>

namespace heartbeat {

class backoff {
public:
    // Precondition: validate(cfg) found nothing. An empty `rng` means default_uniform_source().
    backoff(backoff_config cfg, uniform_source rng);

    // The delay to wait before the next attempt; counts as one attempt.
    duration next_delay();
    // Delays handed out since construction or the last reset.
    unsigned attempts() const noexcept { return attempts_; }
    // Base of the delay the next call to next_delay() draws from.
    duration current_base() const noexcept;
    void reset() noexcept;
    // The reset rule: a session that stayed up at least `reset_after` proves the server healthy,
    // so the next outage starts over from `initial`; a shorter one (a server that accepts and
    // then drops us) keeps growing the delay.
    void on_session_lived(duration lived) noexcept;

    const backoff_config& config() const noexcept { return cfg_; }

private:
    backoff_config cfg_;
    uniform_source rng_;
    unsigned attempts_ = 0;
    double base_ns_; // min(max, initial * multiplier^attempts), never above max
};

} // namespace heartbeat
