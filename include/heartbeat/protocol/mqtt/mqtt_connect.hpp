#pragma once
// The MQTT handshake, client side and sans-io: the CONNECT packet we send and the CONNACK we
// expect back, in MQTT 3.1.1 and MQTT 5.
#include <heartbeat/protocol/mqtt/mqtt_packet.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>

namespace heartbeat::mqtt {

struct connect_options {
    protocol_version version = protocol_version::v311;
    // Empty asks the server to assign one (3.1.1 only with clean_start).
    std::string client_id;
    // 3.1.1 "Clean Session", 5 "Clean Start": same bit.
    bool clean_start = true;
    // 0 turns the server's keep-alive supervision off.
    std::uint16_t keep_alive_s = 60;
    std::optional<std::string> username;
    std::optional<std::string> password; // binary data, not necessarily UTF-8
    // MQTT 5 Session Expiry Interval property, sent when non-zero (0 = the session ends with the
    // connection, which is also what its absence means).
    std::uint32_t session_expiry_s = 0;
};

// Why these options cannot be sent ("client_id is longer than 65535 bytes", ...), or nullopt
// when encode_connect may be called with them. Checks the version value, the 65,535-byte string
// limits, UTF-8 well-formedness of client_id and username, and the 3.1.1-only rules: an empty
// client_id needs clean_start, a password needs a username, no session_expiry_s (3.1.1 has no
// properties, and silently dropping it would change the session's lifetime).
std::optional<std::string> validate(const connect_options& options);

// The whole CONNECT packet, fixed header included. Precondition: validate(options) is nullopt.
//
//   3.1.1  10 len | 00 04 'MQTT' | 04 | flags | keep alive u16 | client id | [username] [password]
//   5      10 len | 00 04 'MQTT' | 05 | flags | keep alive u16 | properties | client id | ...
//
// flags: 0x80 username, 0x40 password, 0x02 clean start. No will message.
std::string encode_connect(const connect_options& options);

struct connack {
    bool session_present = false;
    // 3.1.1 return code or 5 reason code; connack_error says what it means.
    std::uint8_t code = 0;
    // The MQTT 5 properties a client must honour or may report (all others are checked, then
    // skipped). Absent or empty when the server did not send them.
    std::optional<std::uint16_t> server_keep_alive_s; // replaces our keep alive
    std::string assigned_client_id;
    std::string reason_string;
    std::optional<std::uint32_t> maximum_packet_size; // the largest packet we may send
};

// Decodes a whole CONNACK packet (as scan_packet delimited it, fixed header included). On
// malformed_frame returns nullopt; a refusal is not an error here: the code is returned and
// connack_error interprets it.
//
// malformed_frame: another packet type, a length that does not match the span, reserved
// acknowledge flags set, and in MQTT 5: properties that are truncated, overrun their length or
// leave bytes after them, an unknown property id, a property sent twice (User Property may
// repeat), or a value the spec forbids (Receive Maximum or Maximum Packet Size 0, a Maximum QoS
// or *Available flag other than 0 or 1). An MQTT 5 CONNACK of just the 2 bytes (flags and code,
// no property length) is accepted: that is how a 3.1.1-only server answers a version-5 CONNECT.
// Strings are reported as received, without a UTF-8 check: they only inform.
std::optional<connack> decode_connack(std::span<const std::uint8_t> packet,
                                      protocol_version version, boost::system::error_code& ec);

// What a CONNACK code means for the connection: {} when it is accepted, else the reason.
//
//   3.1.1  1 unsupported_version, 2 client_id_rejected, 3 server_unavailable,
//          4 authentication_failed, 5 not_authorized, any other handshake_failed
//   5      0x84 unsupported_version, 0x85 client_id_rejected, 0x86 0x8C authentication_failed,
//          0x87 0x8A not_authorized, 0x88 0x89 0x9C 0x9D server_unavailable,
//          0x01 unsupported_version (a 3.1.1-only server refusing level 5 answers with its own
//          code 1), any other non-zero code handshake_failed (0x00 is the only success)
boost::system::error_code connack_error(std::uint8_t code, protocol_version version) noexcept;

} // namespace heartbeat::mqtt
