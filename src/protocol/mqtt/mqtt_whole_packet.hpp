#pragma once
// For the encoders and decoders of individual packet types: putting the fixed header in front
// of a body, and taking one whole packet apart again.
#include <heartbeat/core/error.hpp>
#include <heartbeat/protocol/mqtt/detail/mqtt_wire.hpp>
#include <heartbeat/protocol/mqtt/mqtt_packet.hpp>

#include <cassert>
#include <optional>
#include <string>
#include <string_view>

namespace heartbeat::mqtt::detail {

// Precondition: body.size() <= max_variable_byte_integer.
inline std::string whole_packet(packet_type type, std::uint8_t flags, std::string_view body) {
    assert(body.size() <= max_variable_byte_integer);
    std::string packet;
    packet.reserve(1 + max_variable_byte_integer_size + body.size());
    put_u8(packet, static_cast<std::uint8_t>(static_cast<std::uint8_t>(type) << 4 | flags));
    put_variable_byte_integer(packet, static_cast<std::uint32_t>(body.size()));
    packet += body;
    return packet;
}

struct packet_body {
    std::uint8_t flags = 0;
    wire_reader body;
};

// malformed_frame unless `packet` is exactly one well-formed packet of type `expected`.
inline std::optional<packet_body> open_packet(std::span<const std::uint8_t> packet,
                                              packet_type expected,
                                              boost::system::error_code& ec) noexcept {
    const packet_scan scan = scan_packet(packet, packet.size());
    if (scan.st != packet_scan::status::complete || scan.consumed != packet.size() ||
        scan.type != expected) {
        ec = error::malformed_frame;
        return std::nullopt;
    }
    return packet_body{scan.flags, wire_reader{packet.subspan(scan.header_size)}};
}

// MQTT 5 packets carry a property list (a Variable Byte Integer length, then that many bytes)
// that a decoder without interest in it steps over. False when it runs past the packet.
inline bool skip_properties(wire_reader& in) noexcept {
    const auto length = in.variable_byte_integer();
    return length && in.bytes(*length);
}

} // namespace heartbeat::mqtt::detail
