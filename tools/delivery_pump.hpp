#pragma once
// `heartbeat watch --send-rate N`: sends N numbered messages per second through the client
// supervisor (client::async_send) and reports how their delivery goes, as `delivery` events:
//   sent     messages the client accepted (sequence numbers 1..sent)
//   acked    highest sequence number a server acknowledged (cumulative)
//   unacked  messages in the client's resend buffer, not yet acknowledged
//   resent   messages re-sent after a reconnect (at-least-once across servers)
//   echoed   messages received back (`serve` echoes every message)
// one every `report_every` while running, and a final one from report() at exit.
//
// Everything runs on the io_context's one thread; the client must outlive the pump.
#include "json_events.hpp"

#include <heartbeat/client/client.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdint>

namespace heartbeat::cli {

class delivery_pump {
public:
    delivery_pump(boost::asio::io_context& ioc, client& c, unsigned rate_per_second,
                  event_writer& out, duration report_every = seconds(1));

    // Starts sending, receiving and the periodic reports.
    void start();
    // No new messages from now on (a send waiting for buffer space is cancelled); receiving and
    // reports go on.
    void stop_sending();
    // Stops the periodic reports (receiving ends with the client's run).
    void stop_reports();
    // Emits a `delivery` event with the current counts.
    void report();
    // Messages not yet acknowledged (from the client's stats).
    std::size_t unacked() const;

private:
    boost::asio::awaitable<void> send_loop();
    void receive_next();
    void schedule_report();

    boost::asio::io_context& ioc_;
    client& client_;
    unsigned rate_;
    event_writer& out_;
    duration report_every_;
    boost::asio::steady_timer pace_;
    boost::asio::steady_timer report_timer_;
    boost::asio::cancellation_signal cancel_send_;
    bool sending_ = false;
    bool reporting_ = false;
    std::uint64_t echoed_ = 0;
};

} // namespace heartbeat::cli
