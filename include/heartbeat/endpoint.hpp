#pragma once
// Where a client connects: "host:port" (resolved on every attempt, so DNS changes are seen),
// "[v6]:port", or an already-resolved endpoint.
#include <boost/asio/ip/tcp.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace heartbeat {

struct endpoint {
    std::string host;
    std::string port;
    std::optional<boost::asio::ip::tcp::endpoint> resolved; // skips DNS when set
    std::string label; // as the user wrote it; used in events and logs

    static endpoint from(const boost::asio::ip::tcp::endpoint& ep);
};

// Parses "HOST:PORT" or "[V6]:PORT". Returns nullopt (and a reason in *why) when malformed.
std::optional<endpoint> parse_endpoint(std::string_view text, std::string* why = nullptr);

} // namespace heartbeat
