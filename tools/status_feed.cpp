#include "status_feed.hpp"

#include <heartbeat/core/error.hpp>

namespace heartbeat::cli {

row_state to_row_state(peer_state s) noexcept {
    switch (s) {
    case peer_state::connecting:
        return row_state::connecting;
    case peer_state::alive:
        return row_state::alive;
    case peer_state::suspect:
        return row_state::suspect;
    case peer_state::dead:
        return row_state::dead;
    }
    return row_state::closed;
}

void feed_client_event(status_board& board, const client_event& e, time_point now) {
    switch (e.kind) {
    case client_event_kind::connecting:
        board.on_connecting(e.endpoint, now);
        return;
    case client_event_kind::connected:
        board.on_established(e.endpoint, now);
        return;
    case client_event_kind::alive:
        board.on_state(e.endpoint, row_state::alive, 0, now);
        return;
    case client_event_kind::suspect:
        board.on_state(e.endpoint, row_state::suspect, e.missed, now);
        return;
    case client_event_kind::rtt:
        board.on_rtt(e.endpoint, e.rtt, e.srtt, now);
        return;
    case client_event_kind::dead: {
        const auto reason = e.dead ? e.dead->reason : e.reason;
        board.on_verdict(e.endpoint, error_name(reason), e.dead ? e.dead->missed : e.missed, now);
        return;
    }
    case client_event_kind::closed:
        board.on_closed(e.endpoint, now);
        return;
    case client_event_kind::reconnecting:
        board.on_history("reconnecting", "", "", now);
        return;
    case client_event_kind::failover:
        board.on_history("failover", e.from, e.to, now);
        return;
    case client_event_kind::failback:
        board.on_history("failback", e.from, e.to, now);
        return;
    case client_event_kind::gave_up:
        board.on_history("gave_up", "", "", now);
        return;
    }
}

} // namespace heartbeat::cli
