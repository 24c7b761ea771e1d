#include <heartbeat/protocol/mqtt/mqtt_packet.hpp>

#include <heartbeat/core/error.hpp>
#include <heartbeat/protocol/mqtt/detail/mqtt_wire.hpp>

namespace heartbeat::mqtt {
namespace {

constexpr std::uint8_t publish_qos_mask = 0b0110;
constexpr std::uint8_t publish_qos_3 = 0b0110;
// PUBREL, SUBSCRIBE and UNSUBSCRIBE carry this fixed value (3.1.1 §2.2.2, 5 §2.1.3).
constexpr std::uint8_t reserved_0010 = 0b0010;

bool flags_allowed(packet_type type, std::uint8_t flags) noexcept {
    switch (type) {
    case packet_type::publish:
        return (flags & publish_qos_mask) != publish_qos_3;
    case packet_type::pubrel:
    case packet_type::subscribe:
    case packet_type::unsubscribe:
        return flags == reserved_0010;
    default:
        return flags == 0;
    }
}

packet_scan failed(packet_scan scan, error e) noexcept {
    scan.st = packet_scan::status::error;
    scan.ec = e;
    return scan;
}

} // namespace

const char* to_string(packet_type type) noexcept {
    switch (type) {
    case packet_type::connect:
        return "CONNECT";
    case packet_type::connack:
        return "CONNACK";
    case packet_type::publish:
        return "PUBLISH";
    case packet_type::puback:
        return "PUBACK";
    case packet_type::pubrec:
        return "PUBREC";
    case packet_type::pubrel:
        return "PUBREL";
    case packet_type::pubcomp:
        return "PUBCOMP";
    case packet_type::subscribe:
        return "SUBSCRIBE";
    case packet_type::suback:
        return "SUBACK";
    case packet_type::unsubscribe:
        return "UNSUBSCRIBE";
    case packet_type::unsuback:
        return "UNSUBACK";
    case packet_type::pingreq:
        return "PINGREQ";
    case packet_type::pingresp:
        return "PINGRESP";
    case packet_type::disconnect:
        return "DISCONNECT";
    case packet_type::auth:
        return "AUTH";
    }
    return "UNKNOWN";
}

packet_scan scan_packet(std::span<const std::uint8_t> bytes, std::size_t max_packet_size) noexcept {
    packet_scan scan;
    if (bytes.empty()) {
        return scan;
    }
    const std::uint8_t type_bits = bytes[0] >> 4;
    scan.type = static_cast<packet_type>(type_bits);
    scan.flags = bytes[0] & 0x0F;
    if (type_bits == 0 || !flags_allowed(scan.type, scan.flags)) {
        return failed(scan, error::malformed_frame);
    }

    const auto length = detail::read_variable_byte_integer(bytes.subspan(1));
    using vbi_status = detail::variable_byte_integer::status;
    if (length.st == vbi_status::malformed) {
        return failed(scan, error::malformed_frame);
    }
    if (length.st == vbi_status::need_more) {
        return scan;
    }
    scan.header_size = 1 + length.size;
    scan.remaining_length = length.value;
    const std::size_t packet_size = scan.header_size + scan.remaining_length;
    if (packet_size > max_packet_size) {
        return failed(scan, error::frame_too_large);
    }
    if (bytes.size() < packet_size) {
        return scan;
    }
    scan.st = packet_scan::status::complete;
    scan.consumed = packet_size;
    return scan;
}

bool server_may_send(packet_type type, protocol_version version) noexcept {
    switch (type) {
    case packet_type::connack:
    case packet_type::publish:
    case packet_type::puback:
    case packet_type::pubrec:
    case packet_type::pubrel:
    case packet_type::pubcomp:
    case packet_type::suback:
    case packet_type::unsuback:
    case packet_type::pingresp:
        return true;
    case packet_type::disconnect:
    case packet_type::auth:
        return version == protocol_version::v5;
    default:
        return false;
    }
}

} // namespace heartbeat::mqtt
