#pragma once
// Per-connection configuration of a native session (basic_session: the native heartbeat
// protocol over TCP, TLS, Unix sockets or your own stream). Plain aggregate; `validate` names the
// bad field and async_run completes with error::invalid_config when it finds one. The fields
// every protocol shares (heartbeat, limits, timeouts) are session_options'.
#include <heartbeat/core/config.hpp>
#include <heartbeat/session/byte_stream_profile.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>

namespace heartbeat {

class resume_store;

struct session_config : session_options {
    // Largest DATA chunk payload accepted from the peer; checked on the 6 header bytes before
    // anything is buffered.
    std::size_t max_frame_payload = 1u << 20;
    // Outgoing messages are cut into DATA chunks of at most this size, so a heartbeat waits for
    // at most one chunk behind a large message.
    std::size_t chunk_size = 64u * 1024;

    // Server-side ping policing: the minimum interval we accept between the peer's pings
    // (advertised in HELLO). 0 disables policing. A ping arriving sooner than 80% of it is a
    // strike: SLOW_DOWN is sent for each of the first `max_ping_strikes`; the next one closes
    // the session with error::too_many_pings.
    duration min_peer_ping_interval = duration::zero();
    unsigned max_ping_strikes = 2;
    // The longest interval we accept the peer to use (advertised in HELLO); 0 = no limit.
    duration max_peer_ping_interval = duration::zero();
    // The slowest our own interval may become when the peer's HELLO floor or a SLOW_DOWN asks
    // us to ping less often: beyond it the session ends with error::incompatible_interval
    // rather than let the peer stretch our detection budget. 0 = 4 x heartbeat.interval.
    duration max_negotiated_interval = duration::zero();

    // Resume identity (used by the client supervisor): 0 = not resumable.
    std::uint64_t session_id = 0;
    // Sequence number given to the first message sent on this connection (messages are
    // numbered across a logical session; the client supervisor re-sends from its first
    // unacknowledged one after a reconnect).
    std::uint64_t first_seq = 1;
    // Server side: remembers per session id what was delivered, so resent duplicates are
    // dropped (exactly-once to the same server). Shared by all sessions of a server.
    std::shared_ptr<resume_store> resume;

    // A cumulative ACK rides on the next write, or goes alone after this delay (the client
    // supervisor frees its resend buffer on ACKs).
    duration ack_delay = milliseconds(5);
};

std::optional<config_error> validate(const session_config& c);

} // namespace heartbeat
