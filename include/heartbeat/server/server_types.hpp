#pragma once
// What every server reports, whatever its protocol: who a peer is, the per-peer callbacks and
// the aggregated stats. Below the servers and their core, so the bookkeeping shared by all of
// them (detail/peer_registry.hpp) needs no server header.
#include <heartbeat/session/session_events.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>

namespace heartbeat {

struct peer_info {
    std::uint64_t id = 0;
    std::string address; // "HOST:PORT" (TCP) or the socket path (Unix)
};

// Run on the peer's strand; different peers' callbacks may run concurrently on a multi-threaded
// io_context.
struct server_callbacks {
    std::function<void(const peer_info&)> on_peer_connected;
    std::function<void(const peer_info&, peer_state from, peer_state to, unsigned missed)>
        on_peer_state;
    std::function<void(const peer_info&, duration rtt, duration srtt)> on_peer_rtt;
    std::function<void(const peer_info&, const verdict&)> on_peer_dead;
    // Every session ends here, with its reason (after on_peer_dead for a verdict).
    std::function<void(const peer_info&, boost::system::error_code reason)> on_peer_closed;
    // Application messages, with their sequence number in the client's logical session (for
    // deduplication after a failover); when unset and echo is on, messages are echoed.
    std::function<void(const peer_info&, received_message message)> on_message;
};

struct server_stats {
    std::uint64_t accepted = 0;
    std::uint64_t rejected = 0; // over max_sessions
    std::uint64_t active = 0;
    std::uint64_t ended = 0;
    std::map<std::string, std::uint64_t> endings; // error_name(reason) -> count
    std::uint64_t bytes_sent = 0;                 // of the active sessions
    std::uint64_t bytes_received = 0;
};

} // namespace heartbeat
