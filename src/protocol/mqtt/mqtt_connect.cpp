#include <heartbeat/protocol/mqtt/mqtt_connect.hpp>

#include "mqtt_whole_packet.hpp"

#include <cassert>
#include <string_view>

namespace heartbeat::mqtt {
namespace {

constexpr std::string_view protocol_name = "MQTT";

constexpr std::uint8_t username_flag = 0x80;
constexpr std::uint8_t password_flag = 0x40;
constexpr std::uint8_t clean_start_flag = 0x02;

constexpr std::uint8_t session_expiry_interval_id = 0x11;

std::optional<std::string> check_string(std::string_view field, std::string_view value,
                                        bool must_be_utf8) {
    if (value.size() > detail::max_string_size) {
        return std::string{field} + " is longer than 65535 bytes";
    }
    if (must_be_utf8 && !detail::is_valid_mqtt_string(value)) {
        return std::string{field} + " is not well-formed UTF-8 without U+0000";
    }
    return std::nullopt;
}

std::uint8_t connect_flags(const connect_options& o) noexcept {
    std::uint8_t flags = 0;
    if (o.username) {
        flags |= username_flag;
    }
    if (o.password) {
        flags |= password_flag;
    }
    if (o.clean_start) {
        flags |= clean_start_flag;
    }
    return flags;
}

} // namespace

std::optional<std::string> validate(const connect_options& o) {
    if (o.version != protocol_version::v311 && o.version != protocol_version::v5) {
        return "version must be v311 (4) or v5 (5)";
    }
    if (auto problem = check_string("client_id", o.client_id, true)) {
        return problem;
    }
    if (o.username) {
        if (auto problem = check_string("username", *o.username, true)) {
            return problem;
        }
    }
    if (o.password) {
        if (auto problem = check_string("password", *o.password, false)) {
            return problem;
        }
    }
    if (o.version == protocol_version::v311) {
        if (o.client_id.empty() && !o.clean_start) {
            return "an empty client_id needs clean_start in MQTT 3.1.1";
        }
        if (o.password && !o.username) {
            return "a password needs a username in MQTT 3.1.1";
        }
        if (o.session_expiry_s != 0) {
            return "session_expiry_s is an MQTT 5 property; MQTT 3.1.1 cannot send it";
        }
    }
    return std::nullopt;
}

std::string encode_connect(const connect_options& o) {
    assert(!validate(o));
    const bool v5 = o.version == protocol_version::v5;

    std::string body;
    detail::put_length_prefixed(body, protocol_name);
    detail::put_u8(body, static_cast<std::uint8_t>(o.version));
    detail::put_u8(body, connect_flags(o));
    detail::put_u16(body, o.keep_alive_s);
    if (v5) {
        if (o.session_expiry_s != 0) {
            detail::put_variable_byte_integer(body, 1 + 4);
            detail::put_u8(body, session_expiry_interval_id);
            detail::put_u32(body, o.session_expiry_s);
        } else {
            detail::put_variable_byte_integer(body, 0);
        }
    }
    detail::put_length_prefixed(body, o.client_id);
    if (o.username) {
        detail::put_length_prefixed(body, *o.username);
    }
    if (o.password) {
        detail::put_length_prefixed(body, *o.password);
    }

    return detail::whole_packet(packet_type::connect, 0, body);
}

} // namespace heartbeat::mqtt
