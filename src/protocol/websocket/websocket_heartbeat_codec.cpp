// The parts of the WebSocket session that are not templates: config validation and the wire
// formats of the heartbeats.
#include <heartbeat/core/error.hpp>
#include <heartbeat/detail/peer_went_away.hpp>
#include <heartbeat/protocol/websocket/websocket_config.hpp>
#include <heartbeat/protocol/websocket/websocket_heartbeat_codec.hpp>

#include <boost/beast/websocket/error.hpp>

#include <charconv>

namespace heartbeat {

const char* to_string(websocket_message_kind k) noexcept {
    return k == websocket_message_kind::text ? "text" : "binary";
}

std::optional<config_error> validate(const websocket_session_config& c) {
    if (auto e = validate(c.heartbeat)) {
        e->field = "websocket_session_config.heartbeat." + e->field.substr(e->field.find('.') + 1);
        return e;
    }
    const auto fail = [](const char* field, const char* reason) {
        return std::optional<config_error>(config_error{field, reason});
    };
    if (c.fragment_size < 1 || c.fragment_size > (1u << 30))
        return fail("websocket_session_config.fragment_size", "must be in [1, 1 GiB]");
    if (c.max_message_size < 1)
        return fail("websocket_session_config.max_message_size", "must be >= 1");
    if (c.receive_buffer_limit < 1)
        return fail("websocket_session_config.receive_buffer_limit", "must be >= 1");
    if (c.close_timeout <= duration::zero())
        return fail("websocket_session_config.close_timeout", "must be > 0");
    const auto& key = c.app_heartbeat.key;
    if (key.empty() || key.size() > 32)
        return fail("websocket_session_config.app_heartbeat.key", "must be 1 to 32 characters");
    for (const char ch : key) {
        const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                        (ch >= '0' && ch <= '9') || ch == '_' || ch == '-';
        if (!ok)
            return fail("websocket_session_config.app_heartbeat.key",
                        "may hold only letters, digits, '_' and '-'");
    }
    return std::nullopt;
}

namespace detail {

std::string encode_ws_ping(std::uint64_t seq, std::uint64_t send_time_us) {
    std::string out(ws_ping_payload_size, '\0');
    for (int i = 0; i < 8; ++i) {
        out[static_cast<std::size_t>(i)] = static_cast<char>((seq >> (56 - 8 * i)) & 0xFF);
        out[static_cast<std::size_t>(8 + i)] =
            static_cast<char>((send_time_us >> (56 - 8 * i)) & 0xFF);
    }
    return out;
}

bool decode_ws_ping(std::string_view payload, std::uint64_t& seq, std::uint64_t& send_time_us) {
    if (payload.size() != ws_ping_payload_size)
        return false;
    seq = 0;
    send_time_us = 0;
    for (std::size_t i = 0; i < 8; ++i) {
        seq = (seq << 8) | static_cast<unsigned char>(payload[i]);
        send_time_us = (send_time_us << 8) | static_cast<unsigned char>(payload[8 + i]);
    }
    return true;
}

std::string encode_app_heartbeat(std::string_view key, const app_heartbeat_message& m) {
    std::string out;
    out.reserve(64 + key.size());
    out += "{\"";
    out += key;
    out += m.ping ? "\":\"ping\",\"seq\":" : "\":\"pong\",\"seq\":";
    out += std::to_string(m.seq);
    out += ",\"t\":";
    out += std::to_string(m.send_time_us);
    out += '}';
    return out;
}

namespace {

// Consumes `lit` at the front of `s`.
bool eat(std::string_view& s, std::string_view lit) {
    if (s.substr(0, lit.size()) != lit)
        return false;
    s.remove_prefix(lit.size());
    return true;
}

// Consumes a decimal number (no sign, no leading '+', at most 20 digits) at the front of `s`.
bool eat_number(std::string_view& s, std::uint64_t& value) {
    const char* begin = s.data();
    const char* end = s.data() + s.size();
    auto [ptr, ec] = std::from_chars(begin, end, value);
    if (ec != std::errc() || ptr == begin)
        return false;
    s.remove_prefix(static_cast<std::size_t>(ptr - begin));
    return true;
}

} // namespace

// Exactly the form encode_app_heartbeat writes (an echo returns the bytes unchanged).
std::optional<app_heartbeat_message> parse_app_heartbeat(std::string_view key,
                                                         std::string_view text) {
    app_heartbeat_message m;
    std::string_view s = text;
    if (!eat(s, "{\"") || !eat(s, key) || !eat(s, "\":\""))
        return std::nullopt;
    if (eat(s, "ping"))
        m.ping = true;
    else if (eat(s, "pong"))
        m.ping = false;
    else
        return std::nullopt;
    if (!eat(s, "\",\"seq\":") || !eat_number(s, m.seq) || !eat(s, ",\"t\":") ||
        !eat_number(s, m.send_time_us) || !eat(s, "}") || !s.empty())
        return std::nullopt;
    return m;
}

boost::system::error_code map_websocket_error(boost::system::error_code ec) {
    namespace websocket = boost::beast::websocket;
    // not_connected: Beast's teardown shuts the socket down after the close handshake, which
    // fails that way once the peer's reset has arrived; the peer is gone all the same.
    if (ec == websocket::error::closed || detail::peer_went_away(ec))
        return error::peer_closed;
    if (ec == websocket::error::message_too_big)
        return error::message_too_large;
    // An unmasked client frame, a reserved opcode or bit, a fragmented control frame, invalid
    // UTF-8 in a text message, a bad close code...: the peer broke RFC 6455.
    if (ec == websocket::condition::protocol_violation)
        return error::malformed_frame;
    return ec;
}

} // namespace detail
} // namespace heartbeat
