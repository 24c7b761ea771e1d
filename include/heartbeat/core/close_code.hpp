#pragma once
// The code a session sends in its goodbye (the native CLOSE frame, the WebSocket close frame)
// for the reason it ends. One table for every protocol, in RFC 6455's numbering, so a peer and a
// log read the same code for the same reason whatever the transport. Sans-io.
#include <boost/system/error_code.hpp>

#include <cstdint>

namespace heartbeat {

namespace close_codes {
inline constexpr std::uint16_t normal = 1000;           // close(), or answering the peer's
inline constexpr std::uint16_t protocol_error = 1002;   // the peer broke the wire protocol
inline constexpr std::uint16_t policy_violation = 1008; // e.g. too many pings
inline constexpr std::uint16_t message_too_big = 1009;  // a frame or message above our limit
inline constexpr std::uint16_t internal_error = 1011;   // a verdict or any other ending
} // namespace close_codes

// Whether a goodbye is said at all: only for the library's own reasons (a transport error or a
// cancellation leaves nothing to say and perhaps nobody to say it to).
bool says_goodbye(const boost::system::error_code& reason) noexcept;

std::uint16_t close_code_for(const boost::system::error_code& reason) noexcept;

} // namespace heartbeat
