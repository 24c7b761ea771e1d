#include <heartbeat/protocol/native/session_config.hpp>
#include <heartbeat/session/session_events.hpp>

namespace heartbeat {

std::optional<config_error> validate(const session_options& c, const char* prefix) {
    if (auto e = validate(c.heartbeat)) {
        e->field = std::string(prefix) + ".heartbeat." + e->field.substr(e->field.find('.') + 1);
        return e;
    }
    const auto fail = [prefix](const char* field, std::string value, const char* reason) {
        return std::optional<config_error>(
            config_error{std::string(prefix) + "." + field, reason, std::move(value)});
    };
    if (c.max_message_size < 1)
        return fail("max_message_size", "0", "must be >= 1");
    if (c.receive_buffer_limit < 1)
        return fail("receive_buffer_limit", "0", "must be >= 1");
    if (c.handshake_timeout <= duration::zero())
        return fail("handshake_timeout", config_value_text(c.handshake_timeout), "must be > 0");
    if (c.close_timeout <= duration::zero())
        return fail("close_timeout", config_value_text(c.close_timeout), "must be > 0");
    return std::nullopt;
}

std::optional<config_error> validate(const session_config& c) {
    if (auto e = validate(static_cast<const session_options&>(c), "session_config"))
        return e;
    const auto fail = [](const char* field, const char* reason) {
        return std::optional<config_error>(config_error{field, reason});
    };
    if (c.max_frame_payload < 64 || c.max_frame_payload > (1u << 30))
        return fail("session_config.max_frame_payload", "must be in [64, 1 GiB]");
    if (c.chunk_size < 1 || c.chunk_size > c.max_frame_payload)
        return fail("session_config.chunk_size", "must be in [1, max_frame_payload]");
    if (c.min_peer_ping_interval < duration::zero())
        return fail("session_config.min_peer_ping_interval", "must be >= 0");
    if (c.max_peer_ping_interval < duration::zero())
        return fail("session_config.max_peer_ping_interval", "must be >= 0");
    if (c.max_peer_ping_interval > duration::zero() &&
        c.max_peer_ping_interval < c.min_peer_ping_interval)
        return fail("session_config.max_peer_ping_interval", "must be >= min_peer_ping_interval");
    if (c.max_negotiated_interval != duration::zero() &&
        c.max_negotiated_interval < c.heartbeat.interval)
        return fail("session_config.max_negotiated_interval",
                    "must be 0 (4 x heartbeat.interval) or >= heartbeat.interval");
    if (c.ack_delay < duration::zero())
        return fail("session_config.ack_delay", "must be >= 0");
    if (c.first_seq < 1)
        return fail("session_config.first_seq", "must be >= 1");
    return std::nullopt;
}

const char* to_string(session_event_kind k) noexcept {
    switch (k) {
    case session_event_kind::state_changed:
        return "state_changed";
    case session_event_kind::rtt_sample:
        return "rtt_sample";
    case session_event_kind::verdict:
        return "verdict";
    case session_event_kind::local_stall:
        return "local_stall";
    case session_event_kind::interval:
        return "interval";
    case session_event_kind::ended:
        return "ended";
    }
    return "unknown";
}

} // namespace heartbeat
