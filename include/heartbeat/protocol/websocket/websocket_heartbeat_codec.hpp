#pragma once
// Wire formats of the WebSocket heartbeats, sans-io (src/protocol/websocket/).
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace heartbeat::detail {

// Control-frame ping payload: seq (8 bytes) then send time in µs (8 bytes), both big-endian.
inline constexpr std::size_t ws_ping_payload_size = 16;
std::string encode_ws_ping(std::uint64_t seq, std::uint64_t send_time_us);
bool decode_ws_ping(std::string_view payload, std::uint64_t& seq, std::uint64_t& send_time_us);

// Application-level heartbeat: {"<key>":"ping"|"pong","seq":N,"t":T}.
struct app_heartbeat_message {
    bool ping = true;
    std::uint64_t seq = 0;
    std::uint64_t send_time_us = 0;
};
std::string encode_app_heartbeat(std::string_view key, const app_heartbeat_message& m);
std::optional<app_heartbeat_message> parse_app_heartbeat(std::string_view key,
                                                         std::string_view text);

// What a failed websocket read or write means for the session.
boost::system::error_code map_websocket_error(boost::system::error_code ec);

} // namespace heartbeat::detail
