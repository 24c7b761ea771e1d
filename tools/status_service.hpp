#pragma once
// `--http HOST:PORT` of `serve` and `watch`, put together: the status board the command feeds,
// the metrics adapter behind /metrics, the HTTP server, and the pusher that sends the /live
// clients an update every second and at once whenever a state changed.
#include "endpoint_arg.hpp"
#include "json_events.hpp"
#include "metrics_adapter.hpp"
#include "status_board.hpp"
#include "status_http_server.hpp"

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>

namespace heartbeat::cli {

// --http's value: HOST:PORT (port 0 picks one). Throws usage_error("--http", ...).
host_port parse_http_address(const std::string& text);

class status_service {
public:
    static constexpr duration push_period = seconds(1);

    // Binds (throws std::runtime_error naming --http if it cannot), reports `http_listening`
    // with the bound address, and starts serving and pushing.
    status_service(boost::asio::io_context& ioc, board_role role, const host_port& at,
                   event_writer& out);

    status_board& board() noexcept { return board_; }
    metrics_adapter& metrics() noexcept { return metrics_; }

    // Call after feeding the board: a state change is pushed to /live clients at once.
    void changed();

    void close();
    bool finished() const { return !server_ || server_->finished(); }

private:
    void push();
    void tick();

    status_board board_;
    metrics_adapter metrics_;
    std::unique_ptr<status_http_server> server_;
    boost::asio::steady_timer timer_;
    std::uint64_t pushed_version_ = 0;
    bool closed_ = false;
};

} // namespace heartbeat::cli
