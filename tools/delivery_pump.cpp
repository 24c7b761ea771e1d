#include "delivery_pump.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <string>

namespace heartbeat::cli {

namespace asio = boost::asio;

delivery_pump::delivery_pump(asio::io_context& ioc, client& c, unsigned rate_per_second,
                             event_writer& out, duration report_every)
    : ioc_(ioc), client_(c), rate_(rate_per_second), out_(out), report_every_(report_every),
      pace_(ioc), report_timer_(ioc) {}

void delivery_pump::start() {
    sending_ = rate_ > 0;
    reporting_ = true;
    if (sending_)
        asio::co_spawn(ioc_, send_loop(), asio::detached);
    receive_next();
    schedule_report();
}

asio::awaitable<void> delivery_pump::send_loop() {
    // Message k (k = 0, 1, ...) is due at start + k / rate. A timer tick sends whatever is due,
    // so rates above the timer's resolution still come out right; after a long wait for buffer
    // space the schedule restarts instead of bursting to catch up.
    const auto period = std::chrono::duration_cast<duration>(std::chrono::duration<double>(1.0) /
                                                             static_cast<double>(rate_));
    time_point start = clock::now();
    std::uint64_t scheduled = 0; // messages due since `start` that were sent
    std::uint64_t number = 0;    // payload numbering, 1, 2, ...
    while (sending_) {
        const time_point now = clock::now();
        const auto due = static_cast<std::uint64_t>((now - start) / period) + 1;
        if (due > scheduled + rate_) { // more than a second behind
            start = now;
            scheduled = 0;
            continue;
        }
        while (sending_ && scheduled < due) {
            auto [ec, seq] = co_await client_.async_send(
                "message " + std::to_string(++number),
                asio::bind_cancellation_slot(cancel_send_.slot(),
                                             asio::as_tuple(asio::use_awaitable)));
            if (ec) {
                sending_ = false;
                co_return; // cancelled by stop_sending, or the client has ended
            }
            ++scheduled;
        }
        if (!sending_)
            break;
        pace_.expires_at(start + period * static_cast<std::int64_t>(scheduled));
        co_await pace_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

void delivery_pump::receive_next() {
    client_.async_receive([this](boost::system::error_code ec, received_message) {
        if (ec)
            return; // the client's run has ended
        ++echoed_;
        receive_next();
    });
}

void delivery_pump::schedule_report() {
    report_timer_.expires_after(report_every_);
    report_timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || !reporting_)
            return;
        report();
        schedule_report();
    });
}

void delivery_pump::stop_sending() {
    if (!sending_)
        return;
    sending_ = false;
    pace_.cancel();
    cancel_send_.emit(asio::cancellation_type::terminal);
}

void delivery_pump::stop_reports() {
    reporting_ = false;
    report_timer_.cancel();
}

std::size_t delivery_pump::unacked() const {
    return client_.stats().unacked;
}

void delivery_pump::report() {
    const client_stats s = client_.stats();
    out_.emit(event_line("delivery")
                  .field("sent", static_cast<std::int64_t>(s.messages_accepted))
                  .field("acked", static_cast<std::int64_t>(s.messages_acked))
                  .field("unacked", static_cast<std::int64_t>(s.unacked))
                  .field("resent", static_cast<std::int64_t>(s.messages_resent))
                  .field("echoed", static_cast<std::int64_t>(echoed_)));
}

} // namespace heartbeat::cli
