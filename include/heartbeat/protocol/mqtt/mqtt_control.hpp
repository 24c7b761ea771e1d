#pragma once
// The MQTT packets after the handshake, client side and sans-io: the keep-alive pair
// (PINGREQ/PINGRESP) and DISCONNECT that a session needs, and PUBLISH, PUBACK, SUBSCRIBE and
// SUBACK for applications and tests. Every function takes or returns one whole packet, fixed
// header included. Decoders return nullopt and set ec to malformed_frame when the bytes do not
// fit the type's layout (another type, a length that does not match the span, truncation).
#include <heartbeat/protocol/mqtt/mqtt_packet.hpp>

#include <boost/system/error_code.hpp>

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace heartbeat::mqtt {

// ---- Keep alive and goodbye ----------------------------------------------------------------

// C0 00, the same in both versions.
constexpr std::array<std::uint8_t, 2> pingreq() noexcept {
    return {static_cast<std::uint8_t>(packet_type::pingreq) << 4, 0x00};
}

// Whether `packet` is exactly one PINGRESP (D0 00; a non-minimal length such as D0 80 00 counts,
// as scan_packet accepts it). A PINGRESP with a body is not one.
bool is_pingresp(std::span<const std::uint8_t> packet) noexcept;
// The same question for a packet scan_packet already found: saves scanning twice.
bool is_pingresp(const packet_scan& scan) noexcept;

// 3.1.1: E0 00 (the packet has no reason, `reason` is ignored). 5: E0 00 for reason 0 (normal
// disconnection, which the spec lets the packet omit), else E0 01 reason (no properties).
std::string encode_disconnect(protocol_version version, std::uint8_t reason = 0);

// ---- Publishing ----------------------------------------------------------------------------

// Preconditions: qos <= 2; packet_id != 0 when qos > 0 (ignored at qos 0); topic non-empty,
// without wildcards, at most 65,535 bytes; the packet fits in 268,435,455 bytes of remaining
// length. DUP is 0 (a first delivery). MQTT 5 adds an empty property list.
std::string encode_publish(std::string_view topic, std::string_view payload, std::uint8_t qos,
                           bool retain, std::uint16_t packet_id, protocol_version version);

// 40 02 id: in MQTT 5 a success PUBACK may omit its reason code and properties, so both
// versions send the same bytes.
std::string encode_puback(std::uint16_t packet_id, protocol_version version);

struct publish {
    std::string topic;
    std::string payload;
    std::uint8_t qos = 0;
    bool retain = false;
    bool dup = false;
    std::uint16_t packet_id = 0; // 0 at QoS 0
};

// MQTT 5 properties are skipped (a topic alias therefore shows as the empty topic it arrived
// with). malformed_frame also for packet id 0 at QoS 1 or 2.
std::optional<publish> decode_publish(std::span<const std::uint8_t> packet,
                                      protocol_version version, boost::system::error_code& ec);

// ---- Subscribing ---------------------------------------------------------------------------

// One topic filter and its options byte: in 3.1.1 the requested QoS (0–2); in 5 the
// Subscription Options (bits 0–1 maximum QoS, 2 No Local, 3 Retain As Published, 4–5 Retain
// Handling). Preconditions: at least one topic; packet_id != 0; each filter 1–65,535 bytes;
// reserved option bits 0.
using subscription = std::pair<std::string_view, std::uint8_t>;
std::string encode_subscribe(std::uint16_t packet_id, std::span<const subscription> topics,
                             protocol_version version);

// The return codes (3.1.1) or reason codes (5), one per requested filter in request order, as
// received. MQTT 5 properties are skipped. malformed_frame also for packet id 0 or no codes.
std::optional<std::vector<std::uint8_t>> decode_suback(std::span<const std::uint8_t> packet,
                                                       protocol_version version,
                                                       boost::system::error_code& ec);

} // namespace heartbeat::mqtt
