#include <heartbeat/protocol/mqtt/mqtt_control.hpp>

#include "mqtt_whole_packet.hpp"

#include <cassert>

namespace heartbeat::mqtt {
namespace {

// SUBSCRIBE's fixed-header flags are fixed at 0b0010 (3.1.1 §3.8.1, 5 §3.8.1).
constexpr std::uint8_t subscribe_flags = 0b0010;

[[maybe_unused]] bool options_valid(std::uint8_t options, protocol_version version) noexcept {
    if (version == protocol_version::v311) {
        return options <= 2;
    }
    const int qos = options & 0b11;
    const int retain_handling = (options >> 4) & 0b11;
    return (options & 0xC0) == 0 && qos != 3 && retain_handling != 3;
}

} // namespace

std::string encode_subscribe(std::uint16_t packet_id, std::span<const subscription> topics,
                             protocol_version version) {
    assert(packet_id != 0);
    assert(!topics.empty());

    std::string body;
    detail::put_u16(body, packet_id);
    if (version == protocol_version::v5) {
        detail::put_variable_byte_integer(body, 0); // no properties
    }
    for (const auto& [filter, options] : topics) {
        assert(!filter.empty());
        assert(options_valid(options, version));
        detail::put_length_prefixed(body, filter);
        detail::put_u8(body, options);
    }
    return detail::whole_packet(packet_type::subscribe, subscribe_flags, body);
}

std::optional<std::vector<std::uint8_t>> decode_suback(std::span<const std::uint8_t> packet,
                                                       protocol_version version,
                                                       boost::system::error_code& ec) {
    ec = {};
    auto opened = detail::open_packet(packet, packet_type::suback, ec);
    if (!opened) {
        return std::nullopt;
    }
    auto& in = opened->body;
    const auto packet_id = in.u16();
    bool ok = packet_id && *packet_id != 0;
    if (ok && version == protocol_version::v5) {
        ok = detail::skip_properties(in);
    }
    if (!ok || in.remaining() == 0) {
        ec = error::malformed_frame;
        return std::nullopt;
    }
    const auto codes = in.rest();
    return std::vector<std::uint8_t>(codes.begin(), codes.end());
}

} // namespace heartbeat::mqtt
