#pragma once
// What the supervisor machine (core/supervisor_fsm.hpp) asks its driver to do: one asynchronous
// operation, or one event to deliver, per action, performed in the order given. Every
// asynchronous action reports back as an input (core/supervisor_inputs.hpp).
#include <heartbeat/client/client_events.hpp>
#include <heartbeat/core/clock.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <variant>

namespace heartbeat::supervisor {

// Resolve, connect and do the transport's handshake with endpoint `endpoint`; report
// connect_done. At most one connect is in progress.
struct connect {
    std::size_t endpoint = 0;
};

// Run the session the last connect produced: hand it every unacknowledged message, forward
// what it receives, report its callbacks (session_state_changed, session_rtt, session_verdict)
// and its end (session_ended).
struct start_session {
    std::size_t endpoint = 0;
};

// Deliver `event` to the application (callback and async_wait_event).
struct emit {
    client_event event;
};

// Arm the supervisor's one timer for `deadline`, replacing any deadline armed before; report
// timer_fired once it passed. time_point::max(): disarm.
struct wait_until {
    time_point deadline{};
};

// Probe endpoint `endpoint` with a heartbeat-only connection (healthy: it answered a ping in
// time); report probe_done{probe, healthy}.
struct start_probe {
    std::size_t endpoint = 0;
    std::uint64_t probe = 0;
};

// Failback to `endpoint` begins: stop handing new messages to the running session (they wait
// for the next one) and report `drained` once all it was handed is acknowledged (at once if it
// is already). The machine then closes the session and connects to `endpoint`.
struct drain_and_switch {
    std::size_t endpoint = 0;
};

// Flush and close the running session; its end comes as session_ended.
struct close_session {};
// End the running session at once; its end comes as session_ended.
struct cancel_session {};
// Abandon the connect in progress at once; it then reports connect_done (operation_aborted).
struct abort_connect {};

// The run is over: async_run completes with `reason`. The timer is disarmed and a session a
// connect produced is dropped; no action follows and later inputs are ignored.
struct finish {
    boost::system::error_code reason;
};

using action = std::variant<connect, start_session, emit, wait_until, start_probe, drain_and_switch,
                            close_session, cancel_session, abort_connect, finish>;

} // namespace heartbeat::supervisor
