#pragma once
// Configuration of the WebSocket server: its sessions, the session limit, the handshake (TLS,
// HTTP upgrade) and the plain HTTP pages it serves on the same port.
#include <heartbeat/core/clock.hpp>
#include <heartbeat/protocol/websocket/websocket_session.hpp>

#include <cstddef>
#include <map>
#include <memory>
#include <string>

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace heartbeat {

struct http_page {
    std::string content_type = "text/html; charset=utf-8";
    std::string body;
};

struct websocket_server_config {
    websocket_session_config session{};
    std::size_t max_sessions = 10000; // further upgrades are refused with 503
    bool echo = true;                 // answer each message with the same message, same kind
    // Bound on the TLS handshake (with `tls`), reading the HTTP request and completing the
    // upgrade, all together.
    duration handshake_timeout = seconds(10);
    // nullptr: plain WebSocket (ws://). Set: TLS on every connection (wss://); the context holds
    // the server's certificate chain and key.
    std::shared_ptr<boost::asio::ssl::context> tls;
    // Largest HTTP request head (request line + headers) accepted before the upgrade.
    std::size_t max_request_bytes = 16 * 1024;
    // Pages served to plain HTTP GET/HEAD requests, by the path of the request target ("/",
    // "/index.html"; a query string is ignored for the lookup).
    std::map<std::string, http_page> http_pages;
    // The Server header of HTTP responses and of the upgrade response.
    std::string server_name = "heartbeat";
    // Observability (docs/observability.md): as server_config's; protocol="ws".
    std::shared_ptr<metrics::registry> metrics;
    log_sink log;
};

} // namespace heartbeat
