#pragma once
// Failback probation of one session on a less preferred endpoint, sans-io: when to probe the
// more preferred endpoints, when their results and the dwell (endpoint_policy) make the
// supervisor fail back, and how long the session may drain before the switch. The supervisor
// machine (core/supervisor_fsm.hpp) owns one and drives it with its endpoint_policy.
//
//  * The first probe is due `probe_interval` after the session started, each next one
//    `probe_interval` after the previous one started; one probe at a time, so a probe slower
//    than the interval delays the next (it starts as soon as the slow one reports).
//  * Once endpoint_policy::failback_target names an endpoint, probing stops and the session
//    drains: it gets no new messages, and is closed once what it was handed is acknowledged,
//    or `drain_timeout` after the drain began, whichever comes first.
#include <heartbeat/client/supervisor_actions.hpp>
#include <heartbeat/core/clock.hpp>
#include <heartbeat/core/endpoint_policy.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace heartbeat {

class failback_probation {
public:
    failback_probation(duration probe_interval, duration drain_timeout) noexcept;

    // A session started at `now`: nothing probed or drained yet. Results of probes started
    // before are stale from now on.
    void start(time_point now) noexcept;

    // Starts the probe that is due, or the drain that the policy calls for, appending the
    // actions (start_probe, drain_and_switch) to `out`.
    void evaluate(time_point now, const endpoint_policy& policy,
                  std::vector<supervisor::action>& out);

    // The endpoint the probe numbered `probe` was probing, and that probe is over; nullopt for
    // a probe of an earlier session.
    std::optional<std::size_t> take_probe_result(std::uint64_t probe) noexcept;

    // The drained session may be closed: all it was handed is acknowledged.
    void on_drained() noexcept { drained_ = true; }

    // The endpoint the session drains for; nullopt while no failback is decided.
    std::optional<std::size_t> switching_to() const noexcept { return switch_to_; }
    // Draining and either drained or past the drain deadline: close the session now.
    bool drain_over(time_point now) const noexcept;

    // When evaluate() or drain_over() may next have something to do without another input:
    // the next probe (none while one is out), the end of the dwell (if still ahead), the drain
    // deadline. time_point::max() when only an input can change anything.
    time_point next_wake(time_point now, const endpoint_policy& policy) const noexcept;

private:
    struct probe_out {
        std::uint64_t id;
        std::size_t endpoint;
    };

    duration probe_interval_;
    duration drain_timeout_;
    time_point next_probe_{};
    std::optional<probe_out> probe_;
    std::uint64_t last_probe_id_ = 0;
    std::optional<std::size_t> switch_to_;
    time_point drain_deadline_{};
    bool drained_ = false;
};

} // namespace heartbeat
