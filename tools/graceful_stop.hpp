#pragma once
// Ending a command cleanly: on SIGINT/SIGTERM (or request(), e.g. when --for elapses) it calls
// `begin` once so the command can close its sessions (each sends CLOSE), then waits until
// `finished()` says everything has ended and stops the io_context. A bounded grace period and a
// second signal both force the stop, so a peer that never acknowledges cannot keep us alive.
#include <heartbeat/core/clock.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>

#include <functional>

namespace heartbeat::cli {

class graceful_stop {
public:
    graceful_stop(boost::asio::io_context& ioc, std::function<void()> begin,
                  std::function<bool()> finished, duration grace = seconds(5));

    // Starts the shutdown; idempotent. Call on the io_context's thread.
    void request();
    bool requested() const noexcept { return requested_; }

private:
    void wait_signal();
    void poll();

    boost::asio::io_context& ioc_;
    std::function<void()> begin_;
    std::function<bool()> finished_;
    duration grace_;
    boost::asio::signal_set signals_;
    boost::asio::steady_timer poll_timer_;
    time_point give_up_at_{};
    bool requested_ = false;
};

} // namespace heartbeat::cli
