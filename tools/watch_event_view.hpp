#pragma once
// What `heartbeat watch` shows of the client supervisor's events: one event_line per event worth
// showing, in the JSON schema documented by `heartbeat watch --help`.
//
// The translation is not one-to-one, to keep the meaning the schema had before the supervisor:
//  * `connected` means the heartbeat handshake completed. The supervisor reports `connected` as
//    soon as TCP connects and then `alive` when the peer's HELLO arrives; the view shows that
//    first `alive` as `connected` (a session that ends before its HELLO shows only `closed`).
//  * `alive` is shown only for suspect -> alive.
//  * `connecting` (one per attempt) is shown in the text view only, never in JSON.
// Sans-io: feed it events in order (one client's events), get lines back.
#include "json_events.hpp"

#include <heartbeat/client/client_events.hpp>

#include <optional>
#include <string>

namespace heartbeat::cli {

class watch_event_view {
public:
    explicit watch_event_view(output_format format) : format_(format) {}

    std::optional<event_line> translate(const client_event& e);

private:
    event_line with_status(event_line e) const;
    std::string status() const;

    output_format format_;
    // The current session, for the filtering above and the text view's status columns.
    std::string endpoint_;
    bool awaiting_handshake_ = false;
    peer_state state_ = peer_state::connecting;
    unsigned missed_ = 0;
    duration last_rtt_{};
    duration srtt_{};
};

} // namespace heartbeat::cli
