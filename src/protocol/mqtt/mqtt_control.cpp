#include <heartbeat/protocol/mqtt/mqtt_control.hpp>

#include "mqtt_whole_packet.hpp"

namespace heartbeat::mqtt {

bool is_pingresp(std::span<const std::uint8_t> packet) noexcept {
    const packet_scan scan = scan_packet(packet, packet.size());
    return scan.consumed == packet.size() && is_pingresp(scan);
}

bool is_pingresp(const packet_scan& scan) noexcept {
    return scan.st == packet_scan::status::complete && scan.type == packet_type::pingresp &&
           scan.remaining_length == 0;
}

std::string encode_disconnect(protocol_version version, std::uint8_t reason) {
    std::string body;
    if (version == protocol_version::v5 && reason != 0) {
        // With fewer than 2 bytes of body the property length is implied 0 (5 §3.14.2.2.1).
        detail::put_u8(body, reason);
    }
    return detail::whole_packet(packet_type::disconnect, 0, body);
}

} // namespace heartbeat::mqtt
