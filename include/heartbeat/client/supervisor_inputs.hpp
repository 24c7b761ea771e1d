#pragma once
// What the client's driver tells the supervisor machine (core/supervisor_fsm.hpp): one input per
// request of the application or completed operation, fed to supervisor_fsm::resume together
// with the time it happened. The machine reads no clock: `now` is always given.
#include <heartbeat/core/clock.hpp>
#include <heartbeat/core/heartbeat_monitor.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <variant>

namespace heartbeat::supervisor {

// async_run began.
struct start {};

// The last `connect` action completed: with an error, or with a session ready to run (the
// driver keeps it until `start_session` or `finish`).
struct connect_done {
    boost::system::error_code ec;
};

// Callbacks of the running session. A change from peer_state::connecting means the protocol
// handshake is done: the session is established.
struct session_state_changed {
    peer_state from = peer_state::connecting;
    peer_state to = peer_state::connecting;
    unsigned missed = 0;
};
struct session_rtt {
    duration rtt{};
    duration srtt{};
};
struct session_verdict {
    verdict dead;
};

// The running session ended with `reason`.
struct session_ended {
    boost::system::error_code reason;
};

// After `drain_and_switch`: nothing the session was handed awaits its acknowledgement any more.
struct drained {};

// The `start_probe` numbered `probe` completed.
struct probe_done {
    std::uint64_t probe = 0;
    bool healthy = false;
};

// The deadline of the last `wait_until` passed.
struct timer_fired {};

// client::close(): flush the session and stop with error::session_closed.
struct close_requested {};
// client::cancel() or cancellation of async_run: stop at once with operation_aborted.
struct cancel_requested {};

using input = std::variant<start, connect_done, session_state_changed, session_rtt, session_verdict,
                           session_ended, drained, probe_done, timer_fired, close_requested,
                           cancel_requested>;

} // namespace heartbeat::supervisor
