#pragma once
// `--http HOST:PORT`: the HTTP/1.1 server of `serve` and `watch` (Boost.Beast), on the command's
// io_context thread:
//   GET /metrics      Prometheus text (Content-Type text/plain; version=0.0.4)
//   GET /status.json  the current rows, the active endpoint, the failover history
//   GET /             the status page (one self-contained HTML file, compiled in)
//   /live             WebSocket: a snapshot on connect, then every update (see live_channel)
// HEAD is answered like GET without the body. An unknown path is 404, another method on a known
// one 405, a malformed request 400, a request head over max_header_bytes 431; none stops the
// server. At most max_connections HTTP connections at once (more are answered 503 and closed),
// each idle for at most idle_timeout; keep-alive is honoured.
#include "live_channel.hpp"

#include <heartbeat/core/config.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstddef>
#include <functional>
#include <memory>
#include <string>

namespace heartbeat::cli {

struct status_http_routes {
    std::function<std::string()> metrics;       // GET /metrics
    std::function<std::string()> status_json;   // GET /status.json
    std::function<std::string()> live_snapshot; // the first /live message
    std::string page;                           // GET /
};

struct status_http_limits {
    std::size_t max_connections = 32;
    std::size_t max_live_clients = 16;
    std::size_t max_header_bytes = 8 * 1024;
    duration idle_timeout = seconds(15);
    // The /live sessions' heartbeat: a vanished browser is dropped after about
    // interval + max_missed * pong_timeout.
    monitor_config live_heartbeat{.interval = seconds(1), .pong_timeout = seconds(2)};
};

class status_http_server {
public:
    // Binds and listens at once (port 0 picks one); throws boost::system::system_error if it
    // cannot.
    status_http_server(boost::asio::io_context& ioc, const boost::asio::ip::tcp::endpoint& at,
                       status_http_routes routes, status_http_limits limits = {});
    ~status_http_server();
    status_http_server(const status_http_server&) = delete;
    status_http_server& operator=(const status_http_server&) = delete;

    boost::asio::ip::tcp::endpoint local_endpoint() const;

    void start();
    // Pushes a text message to every /live client.
    void broadcast(const std::string& message);
    // Stops accepting, closes every connection and /live client; finished() once all are gone.
    void close();
    bool finished() const;

    std::size_t live_clients() const;

    struct state; // shared with the connections, which may outlive a call

private:
    std::shared_ptr<state> state_;
};

} // namespace heartbeat::cli
