#include "graceful_stop.hpp"

#include <csignal>

namespace heartbeat::cli {

graceful_stop::graceful_stop(boost::asio::io_context& ioc, std::function<void()> begin,
                             std::function<bool()> finished, duration grace)
    : ioc_(ioc), begin_(std::move(begin)), finished_(std::move(finished)), grace_(grace),
      signals_(ioc, SIGINT, SIGTERM), poll_timer_(ioc) {
    wait_signal();
}

void graceful_stop::wait_signal() {
    signals_.async_wait([this](boost::system::error_code ec, int) {
        if (ec)
            return;
        if (requested_) {
            ioc_.stop(); // impatient second Ctrl-C
            return;
        }
        request();
        wait_signal();
    });
}

void graceful_stop::request() {
    if (requested_)
        return;
    requested_ = true;
    give_up_at_ = clock::now() + grace_;
    begin_();
    poll();
}

// Polling keeps the commands free of completion bookkeeping; it only runs while shutting down.
void graceful_stop::poll() {
    if (finished_() || clock::now() >= give_up_at_) {
        boost::system::error_code ignored;
        signals_.cancel(ignored);
        ioc_.stop();
        return;
    }
    poll_timer_.expires_after(milliseconds(10));
    poll_timer_.async_wait([this](boost::system::error_code ec) {
        if (!ec)
            poll();
    });
}

} // namespace heartbeat::cli
