#pragma once
// Watches one endpoint for `heartbeat watch`: resolve, connect, run a heartbeat session and
// report what it sees, then start over after a fixed delay when the session ends or the connect
// fails. (Exponential backoff belongs to the client supervisor; this loop is deliberately dumb
// so what it reports is exactly what one session saw.)
#include "endpoint_arg.hpp"
#include "json_events.hpp"

#include <heartbeat/session.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <string>

namespace heartbeat::cli {

class endpoint_watcher {
public:
    // `endpoint` is reported verbatim, as the user wrote it.
    endpoint_watcher(boost::asio::io_context& ioc, std::string endpoint, host_port target,
                     session_config config, event_writer& out);

    // Runs until stop(); spawn it on the io_context.
    boost::asio::awaitable<void> run();

    // Aborts a pending resolve, connect or retry wait and closes the session (sending CLOSE).
    // Call on the io_context's thread.
    void stop();
    bool finished() const noexcept { return finished_; }

    static constexpr duration retry_delay = seconds(1);
    // Without it a black-holed address would stay silent for the kernel's ~2 minute SYN retries.
    static constexpr duration connect_timeout = seconds(10);

private:
    boost::asio::awaitable<boost::system::error_code> connect();
    boost::asio::awaitable<boost::system::error_code> run_session();
    session_callbacks make_callbacks();
    void emit(event_line e);
    std::string status() const;

    std::string endpoint_;
    host_port target_;
    session_config config_;
    event_writer& out_;
    boost::asio::ip::tcp::resolver resolver_;
    boost::asio::ip::tcp::socket socket_;
    boost::asio::steady_timer connect_timer_;
    boost::asio::steady_timer retry_timer_;
    // Aborts whichever connect or retry wait is pending (the resolver is cancelled directly).
    boost::asio::cancellation_signal cancel_;
    bool connect_timed_out_ = false;
    std::unique_ptr<tcp_session> session_;
    bool stopping_ = false;
    bool finished_ = false;

    // For the text view's status columns.
    peer_state state_ = peer_state::connecting;
    unsigned missed_ = 0;
    duration last_rtt_{};
    duration srtt_{};
};

} // namespace heartbeat::cli
