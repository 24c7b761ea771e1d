#pragma once
// Where a client connects and which protocol it speaks there:
//   "HOST:PORT", "[V6]:PORT"            the native heartbeat protocol over TCP
//   "ws://HOST[:PORT][/PATH][?QUERY]"   WebSocket (RFC 6455), port 80 when omitted
//   "wss://HOST[:PORT][/PATH][?QUERY]"  WebSocket over TLS, port 443 when omitted
//   "redis://[[USER]:PASS@]HOST[:PORT][/DB][?protocol=2|3&name=N]"
//                                       Redis (RESP), port 6379 when omitted; rediss:// over TLS
//   "mqtt://[USER[:PASS]@]HOST[:PORT][?client_id=ID&version=3.1.1|5&keep_alive=SECONDS]"
//                                       an MQTT broker, port 1883 (mqtts://: TLS, 8883)
//   "line://HOST:PORT[?ping=PING&pong=PONG&match=exact|prefix&eol=crlf|lf&max_line=N&goodbye=Q]"
//                                       a line protocol (port required; lines://: TLS)
// User info and option values are percent-decoded ('+' stays '+': pong=+PONG). The label,
// used in events and logs, shows a password as "***".
// Host names are resolved on every attempt (so DNS changes are seen); address literals, or an
// already-resolved endpoint, skip the resolver.
#include <boost/asio/ip/tcp.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace heartbeat {

enum class endpoint_scheme { native, ws, wss, redis, rediss, mqtt, mqtts, line, lines };
// "native", "ws", "wss", "redis", "rediss", "mqtt", "mqtts", "line", "lines"
const char* to_string(endpoint_scheme s) noexcept;

struct endpoint {
    std::string host; // without brackets
    std::string port;
    std::optional<boost::asio::ip::tcp::endpoint> resolved; // skips DNS when set
    std::string label; // as the user wrote it (password masked); used in events and logs
    endpoint_scheme scheme = endpoint_scheme::native;
    // ws/wss: the request target of the upgrade, path and query ("/" when the URI has none).
    // Empty for native endpoints.
    std::string target;
    // redis/mqtt: the user info, percent-decoded.
    std::string username;
    std::string password;
    // redis: the database of the path ("/3"); 0 when none.
    unsigned database = 0;
    // redis/mqtt/line: the query's options, percent-decoded, in order; checked by the parser.
    std::vector<std::pair<std::string, std::string>> options;

    bool websocket() const noexcept {
        return scheme == endpoint_scheme::ws || scheme == endpoint_scheme::wss;
    }
    bool tls() const noexcept {
        return scheme == endpoint_scheme::wss || scheme == endpoint_scheme::rediss ||
               scheme == endpoint_scheme::mqtts || scheme == endpoint_scheme::lines;
    }
    // The last value given for `key`, if any.
    std::optional<std::string> option(std::string_view key) const;
    // ws/wss: the Host header of the upgrade request: the host (bracketed when IPv6) and the
    // port unless it is the scheme's default.
    std::string host_header() const;

    static endpoint from(const boost::asio::ip::tcp::endpoint& ep);
};

// Parses the forms above. Returns nullopt (and a reason in *why) when malformed: an unknown
// scheme, a missing host, a port that is not a number in [0, 65535], an IPv6 address without
// brackets, a fragment or user info in a WebSocket URI, an unknown option or a bad option value.
std::optional<endpoint> parse_endpoint(std::string_view text, std::string* why = nullptr);

} // namespace heartbeat
