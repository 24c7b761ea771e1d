#pragma once
// MQTT framing, sans-io: where a control packet starts and ends in a byte stream, for
// MQTT 3.1.1 and MQTT 5 (their fixed headers are identical).
//
//   fixed header   type << 4 | flags   u8
//                  remaining length    Variable Byte Integer, 1–4 bytes, at most 268,435,455
//   then           remaining length bytes (variable header and payload, per type)
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <span>

namespace heartbeat::mqtt {

enum class packet_type : std::uint8_t {
    connect = 1,
    connack,
    publish,
    puback,
    pubrec,
    pubrel,
    pubcomp,
    subscribe,
    suback,
    unsubscribe,
    unsuback,
    pingreq,
    pingresp,
    disconnect,
    auth, // MQTT 5 only
};

// The spec's name ("CONNECT", "PINGRESP", ...), or "UNKNOWN" for a value outside the enum.
const char* to_string(packet_type type) noexcept;

// The CONNECT packet's Protocol Level byte.
enum class protocol_version : std::uint8_t { v311 = 4, v5 = 5 };

struct packet_scan {
    enum class status : std::uint8_t { complete, need_more, error } st = status::need_more;
    // st == complete: the whole packet's size (fixed header + remaining length); drop that many
    // bytes before scanning the next packet. 0 otherwise.
    std::size_t consumed = 0;
    // The fields below are filled in as soon as the bytes for them have arrived, also on
    // need_more: once header_size != 0 the whole packet needs header_size + remaining_length
    // bytes, which lets a reader size its next read.
    std::size_t header_size = 0; // 2 to 5
    packet_type type{};
    std::uint8_t flags = 0; // the low nibble of the first byte
    std::uint32_t remaining_length = 0;
    // st == error: malformed_frame or frame_too_large. The stream cannot be resynchronised after
    // either, so the connection must be closed.
    boost::system::error_code ec{};
};

// Finds the packet at the start of `bytes` without copying. Errors are reported as early as the
// bytes allow: a bad first byte (type 0, flags the type forbids) at once, a Variable Byte Integer
// whose 4th byte still continues at that 4th byte, and a whole-packet size above
// max_packet_size (MQTT 5's Maximum Packet Size counts the whole packet too) as soon as the
// length is known, before anyone waits for or buffers the body. The body is not looked at: the
// per-type decoders check it. Type 15 (AUTH) is accepted in both versions; whether the server
// may send a type is server_may_send's question.
packet_scan scan_packet(std::span<const std::uint8_t> bytes, std::size_t max_packet_size) noexcept;

// Whether a server may send this packet type to a client: CONNACK, PUBLISH, PUBACK, PUBREC,
// PUBREL, PUBCOMP, SUBACK, UNSUBACK, PINGRESP, and in MQTT 5 also DISCONNECT and AUTH.
bool server_may_send(packet_type type, protocol_version version) noexcept;

} // namespace heartbeat::mqtt
