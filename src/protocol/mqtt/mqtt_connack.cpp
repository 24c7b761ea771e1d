#include <heartbeat/protocol/mqtt/mqtt_connect.hpp>

#include "mqtt_whole_packet.hpp"

#include <heartbeat/core/error.hpp>

#include <bitset>

namespace heartbeat::mqtt {
namespace {

constexpr std::uint8_t session_present_flag = 0x01;

// The MQTT 5 property ids a CONNACK may carry (5 §3.2.2.3).
enum class property : std::uint8_t {
    session_expiry_interval = 0x11,
    assigned_client_identifier = 0x12,
    server_keep_alive = 0x13,
    authentication_method = 0x15,
    authentication_data = 0x16,
    response_information = 0x1A,
    server_reference = 0x1C,
    reason_string = 0x1F,
    receive_maximum = 0x21,
    topic_alias_maximum = 0x22,
    maximum_qos = 0x24,
    retain_available = 0x25,
    user_property = 0x26,
    maximum_packet_size = 0x27,
    wildcard_subscription_available = 0x28,
    subscription_identifiers_available = 0x29,
    shared_subscription_available = 0x2A,
};

// Reads one property value into `out`; false when it is truncated, unknown or out of range.
bool read_property(property id, detail::wire_reader& in, connack& out) {
    switch (id) {
    case property::session_expiry_interval:
        return in.u32().has_value();
    case property::receive_maximum: {
        const auto value = in.u16();
        return value && *value != 0; // 0 is a protocol error (5 §3.2.2.3.3)
    }
    case property::maximum_packet_size: {
        const auto value = in.u32();
        if (!value || *value == 0) { // 0 is a protocol error (5 §3.2.2.3.6)
            return false;
        }
        out.maximum_packet_size = *value;
        return true;
    }
    case property::topic_alias_maximum:
        return in.u16().has_value();
    case property::server_keep_alive:
        out.server_keep_alive_s = in.u16();
        return out.server_keep_alive_s.has_value();
    case property::maximum_qos:
    case property::retain_available:
    case property::wildcard_subscription_available:
    case property::subscription_identifiers_available:
    case property::shared_subscription_available: {
        const auto value = in.u8();
        return value && *value <= 1;
    }
    case property::assigned_client_identifier:
    case property::reason_string: {
        const auto value = in.length_prefixed();
        if (!value) {
            return false;
        }
        (id == property::reason_string ? out.reason_string : out.assigned_client_id) = *value;
        return true;
    }
    case property::response_information:
    case property::server_reference:
    case property::authentication_method:
    case property::authentication_data:
        return in.length_prefixed().has_value();
    case property::user_property:
        return in.length_prefixed() && in.length_prefixed();
    }
    return false; // an id this switch does not know
}

bool read_properties(detail::wire_reader& in, connack& out) {
    const auto length = in.variable_byte_integer();
    if (!length) {
        return false;
    }
    const auto bytes = in.bytes(*length);
    if (!bytes) {
        return false;
    }
    detail::wire_reader properties{*bytes};
    std::bitset<256> seen;
    while (properties.remaining() != 0) {
        // A Variable Byte Integer in the spec, but every id defined so far fits in one byte; a
        // byte with the continuation bit is an id we cannot know.
        const std::uint8_t id = *properties.u8();
        const bool repeatable = id == static_cast<std::uint8_t>(property::user_property);
        if (seen[id] && !repeatable) {
            return false;
        }
        seen[id] = true;
        if (!read_property(static_cast<property>(id), properties, out)) {
            return false;
        }
    }
    return true;
}

} // namespace

std::optional<connack> decode_connack(std::span<const std::uint8_t> packet,
                                      protocol_version version, boost::system::error_code& ec) {
    ec = {};
    auto opened = detail::open_packet(packet, packet_type::connack, ec);
    if (!opened) {
        return std::nullopt;
    }
    auto& in = opened->body;
    const auto acknowledge_flags = in.u8();
    const auto code = in.u8();
    if (!acknowledge_flags || !code || (*acknowledge_flags & ~session_present_flag) != 0) {
        ec = error::malformed_frame;
        return std::nullopt;
    }
    connack result;
    result.session_present = (*acknowledge_flags & session_present_flag) != 0;
    result.code = *code;
    // In MQTT 5 the properties follow, except from a 3.1.1 server refusing the version (2 bytes).
    const bool has_properties = version == protocol_version::v5 && in.remaining() != 0;
    if (has_properties && !read_properties(in, result)) {
        ec = error::malformed_frame;
        return std::nullopt;
    }
    if (in.remaining() != 0) {
        ec = error::malformed_frame;
        return std::nullopt;
    }
    return result;
}

boost::system::error_code connack_error(std::uint8_t code, protocol_version version) noexcept {
    if (code == 0) {
        return {};
    }
    if (version == protocol_version::v311) {
        switch (code) {
        case 1:
            return error::unsupported_version;
        case 2:
            return error::client_id_rejected;
        case 3:
            return error::server_unavailable;
        case 4:
            return error::authentication_failed;
        case 5:
            return error::not_authorized;
        default:
            return error::handshake_failed;
        }
    }
    switch (code) {
    case 0x01: // a 3.1.1 server's "unacceptable protocol version"
    case 0x84:
        return error::unsupported_version;
    case 0x85:
        return error::client_id_rejected;
    case 0x86: // bad user name or password
    case 0x8C: // bad authentication method
        return error::authentication_failed;
    case 0x87: // not authorized
    case 0x8A: // banned
        return error::not_authorized;
    case 0x88: // server unavailable
    case 0x89: // server busy
    case 0x9C: // use another server
    case 0x9D: // server moved
        return error::server_unavailable;
    default:
        return error::handshake_failed;
    }
}

} // namespace heartbeat::mqtt
