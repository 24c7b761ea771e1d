#pragma once
// Where a client connects and which protocol it speaks there:
//   "HOST:PORT", "[V6]:PORT"            the native heartbeat protocol over TCP
//   "ws://HOST[:PORT][/PATH][?QUERY]"   WebSocket (RFC 6455), port 80 when omitted
//   "wss://HOST[:PORT][/PATH][?QUERY]"  WebSocket over TLS, port 443 when omitted
// Host names are resolved on every attempt (so DNS changes are seen); address literals, or an
// already-resolved endpoint, skip the resolver.
#include <boost/asio/ip/tcp.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace heartbeat {

enum class endpoint_scheme { native, ws, wss };
const char* to_string(endpoint_scheme s) noexcept; // "native", "ws", "wss"

struct endpoint {
    std::string host; // without brackets
    std::string port;
    std::optional<boost::asio::ip::tcp::endpoint> resolved; // skips DNS when set
    std::string label; // as the user wrote it; used in events and logs
    endpoint_scheme scheme = endpoint_scheme::native;
    // ws/wss: the request target of the upgrade, path and query ("/" when the URI has none).
    // Empty for native endpoints.
    std::string target;

    bool websocket() const noexcept { return scheme != endpoint_scheme::native; }
    // ws/wss: the Host header of the upgrade request: the host (bracketed when IPv6) and the
    // port unless it is the scheme's default.
    std::string host_header() const;

    static endpoint from(const boost::asio::ip::tcp::endpoint& ep);
};

// Parses the forms above. Returns nullopt (and a reason in *why) when malformed: an unknown
// scheme, a missing host, a port that is not a number in [0, 65535], an IPv6 address without
// brackets, a fragment or user info in a WebSocket URI.
std::optional<endpoint> parse_endpoint(std::string_view text, std::string* why = nullptr);

} // namespace heartbeat
