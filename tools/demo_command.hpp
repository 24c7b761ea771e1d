#pragma once
// `heartbeat demo`: runs the failover scenario of demo/failover_demo (a primary and a backup
// server and a streaming client in this process; the primary hangs and recovers) and prints its
// timeline and delivery count.
#include "demo/failover_demo.hpp"
#include "session_options.hpp"

#include <iosfwd>

namespace heartbeat::cli {

struct demo_args {
    // The demo's own defaults (demo::options), faster than serve's and watch's.
    heartbeat_flags heartbeat{.interval = "250ms",
                              .timeout = "250ms",
                              .misses = "3",
                              .jitter = "0",
                              .min_interval = "0ms"};
};

// The longest silence budget (interval + misses * timeout) the demo accepts: its timeline
// stretches with the budget, and beyond this it would take minutes.
inline constexpr duration max_demo_budget = seconds(60);

// The scenario's options: the heartbeat flags, and a timeline long enough for them — the primary
// hangs at 3 s and recovers budget + 3 s later; streaming stops 4 s after the recovery (with the
// defaults: 3 s, 7 s, 11 s). Throws usage_error naming the flag.
demo::options make_demo_options(const demo_args& args);

// Returns the scenario's exit status: 0 only when nothing was lost or duplicated, everything
// arrived in order, and both the failover and the failback happened.
int run_demo(const demo_args& args, std::ostream& out);

} // namespace heartbeat::cli
