#pragma once
// One error enum for the whole library. Values are part of the ABI and of logs people grep:
// never renumber, only append.
#include <boost/system/error_code.hpp>

namespace heartbeat {

enum class error {
    // Verdicts and session endings.
    peer_dead = 1,      // heartbeat budget exhausted: the peer stopped answering
    peer_closed = 2,    // the peer closed the connection (CLOSE frame or EOF)
    too_many_pings = 3, // the peer pinged faster than our minimum interval, repeatedly
    session_closed = 4, // close() was called locally
    write_stalled = 5,  // a heartbeat stayed unwritten for the silence budget: the peer stopped
                        // reading (it may still be talking)
    // Configuration.
    invalid_config = 10, // a config field is out of range (the log names the field)
    // Wire protocol violations (each closes the session cleanly).
    frame_too_large = 20,       // length field above the configured maximum
    unknown_frame_type = 21,    // type byte not in the native protocol
    malformed_frame = 22,       // payload does not match its type's layout
    truncated_frame = 23,       // stream ended in the middle of a frame
    unexpected_pong = 24,       // a pong for a ping we never sent
    data_before_hello = 25,     // any frame other than HELLO before the handshake
    unsupported_version = 26,   // HELLO with a protocol version we do not speak
    incompatible_interval = 27, // the peer advertised an empty interval range (min > max)
    handshake_timeout = 28,     // HELLO did not arrive in time
    message_too_large = 29,     // reassembled DATA message above the configured maximum
    // Protocol profiles (RESP, MQTT, line, user-defined).
    handshake_failed = 30,      // the peer refused the handshake, or closed during it
    authentication_failed = 31, // credentials refused (Redis WRONGPASS/NOAUTH, MQTT CONNACK)
    not_authorized = 32,        // MQTT CONNACK: not authorized
    client_id_rejected = 33,    // MQTT CONNACK: client identifier rejected
    server_unavailable = 34,    // MQTT CONNACK: server unavailable / busy
    unexpected_reply = 35,      // a reply with no request of ours awaiting it (FIFO profiles)
    invalid_message = 36,       // async_send: the payload is not one message of the profile
    // Client supervisor.
    all_endpoints_failed = 40, // give-up rule fired
    connect_timeout = 41,      // one connect attempt took too long
    send_buffer_full = 42,     // session_pool::send: the member's send queue is at its limit
                               // (a session's async_send waits instead)
    // Session pool.
    pool_full = 43,      // session_pool::add: every member slot is taken
    no_such_member = 44, // session_pool: the id names a member that has ended (or never was)
};

const boost::system::error_category& heartbeat_category() noexcept;

inline boost::system::error_code make_error_code(error e) noexcept {
    return {static_cast<int>(e), heartbeat_category()};
}

// A fatal error will not get better by reconnecting: misconfiguration, protocol version
// mismatch, refused credentials, cancellation, a local close. The client supervisor retries every
// other ending; it gives up (gave_up event, async_run completes with the reason) at once on
// invalid_config, and on unsupported_version / incompatible_interval / authentication_failed /
// not_authorized / client_id_rejected once that many attempts in a row, one per configured
// endpoint, ended so (another endpoint may speak our version or know our credentials).
bool is_fatal(const boost::system::error_code& ec) noexcept;

// Short stable token for an error ("peer_dead", "frame_too_large", "eof", ...), used in JSON
// events and logs.
const char* error_name(const boost::system::error_code& ec) noexcept;

} // namespace heartbeat

template <>
struct boost::system::is_error_code_enum<heartbeat::error> : std::true_type {};
