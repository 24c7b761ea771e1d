#include <heartbeat/protocol/mqtt/mqtt_control.hpp>

#include "mqtt_whole_packet.hpp"

#include <cassert>

namespace heartbeat::mqtt {
namespace {

// PUBLISH fixed-header flags (3.1.1 §3.3.1, 5 §3.3.1).
constexpr std::uint8_t dup_flag = 0b1000;
constexpr std::uint8_t retain_flag = 0b0001;
constexpr int qos_shift = 1;
constexpr std::uint8_t qos_bits = 0b11;

} // namespace

std::string encode_publish(std::string_view topic, std::string_view payload, std::uint8_t qos,
                           bool retain, std::uint16_t packet_id, protocol_version version) {
    assert(qos <= 2);
    assert(qos == 0 || packet_id != 0);
    assert(!topic.empty() && topic.find_first_of("+#") == std::string_view::npos);

    std::string body;
    body.reserve(2 + topic.size() + 2 + 1 + payload.size());
    detail::put_length_prefixed(body, topic);
    if (qos > 0) {
        detail::put_u16(body, packet_id);
    }
    if (version == protocol_version::v5) {
        detail::put_variable_byte_integer(body, 0); // no properties
    }
    body += payload;

    const auto flags =
        static_cast<std::uint8_t>(qos << qos_shift | (retain ? retain_flag : std::uint8_t{0}));
    return detail::whole_packet(packet_type::publish, flags, body);
}

std::string encode_puback(std::uint16_t packet_id, protocol_version /*version*/) {
    std::string body;
    detail::put_u16(body, packet_id);
    return detail::whole_packet(packet_type::puback, 0, body);
}

std::optional<publish> decode_publish(std::span<const std::uint8_t> packet,
                                      protocol_version version, boost::system::error_code& ec) {
    ec = {};
    auto opened = detail::open_packet(packet, packet_type::publish, ec);
    if (!opened) {
        return std::nullopt;
    }
    auto& in = opened->body;
    publish result;
    result.qos = (opened->flags >> qos_shift) & qos_bits; // 3 was refused by scan_packet
    result.retain = (opened->flags & retain_flag) != 0;
    result.dup = (opened->flags & dup_flag) != 0;

    const auto topic = in.length_prefixed();
    bool ok = topic.has_value();
    if (ok && result.qos > 0) {
        const auto packet_id = in.u16();
        ok = packet_id && *packet_id != 0;
        result.packet_id = packet_id.value_or(0);
    }
    if (ok && version == protocol_version::v5) {
        ok = detail::skip_properties(in);
    }
    if (!ok) {
        ec = error::malformed_frame;
        return std::nullopt;
    }
    result.topic = *topic;
    const auto payload = in.rest();
    result.payload.assign(payload.begin(), payload.end());
    return result;
}

} // namespace heartbeat::mqtt
