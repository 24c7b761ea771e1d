#pragma once
// How each command's own event stream reaches its status board: the client supervisor's events
// (`watch`, one row per endpoint) and the server's per-peer callbacks (`serve`, one row per peer).
#include "status_board.hpp"

#include <heartbeat/client/client_events.hpp>
#include <heartbeat/core/heartbeat_monitor.hpp>

namespace heartbeat::cli {

row_state to_row_state(peer_state s) noexcept;

// One client event, at `now`.
void feed_client_event(status_board& board, const client_event& e, time_point now);

} // namespace heartbeat::cli
