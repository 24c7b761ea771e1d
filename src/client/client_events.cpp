#include <heartbeat/client/client_events.hpp>

namespace heartbeat {

const char* to_string(client_event_kind k) noexcept {
    switch (k) {
    case client_event_kind::connecting:
        return "connecting";
    case client_event_kind::connected:
        return "connected";
    case client_event_kind::suspect:
        return "suspect";
    case client_event_kind::alive:
        return "alive";
    case client_event_kind::rtt:
        return "rtt";
    case client_event_kind::dead:
        return "dead";
    case client_event_kind::closed:
        return "closed";
    case client_event_kind::reconnecting:
        return "reconnecting";
    case client_event_kind::failover:
        return "failover";
    case client_event_kind::failback:
        return "failback";
    case client_event_kind::gave_up:
        return "gave_up";
    }
    return "unknown";
}

} // namespace heartbeat
