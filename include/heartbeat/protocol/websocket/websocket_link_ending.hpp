#pragma once
// How a websocket_link session ends, once the core has stopped: a frame being written cannot be
// cut without failing the stream, so the ending lets the writer (flushing after close()) and the
// pinger finish, sends the close frame (the code from close_code_for: 1000 after close(), 1011
// after a verdict), after close() waits for the peer's close frame, tears the connection down,
// and waits until every loop has returned. Everything is bounded by close_timeout. A coroutine,
// spawned only when the session ends.
#include <heartbeat/core/close_code.hpp>
#include <heartbeat/protocol/websocket/websocket_link_impl.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace heartbeat {

template <class NextLayer>
void websocket_link<NextLayer>::notify() {
    if (notify_waiting_)
        notify_timer_->cancel(); // notify_waiting_: it exists
}

// Sleeps until `done()` or `deadline`; returns done().
template <class NextLayer>
template <class Pred>
boost::asio::awaitable<bool> websocket_link<NextLayer>::wait_for(Pred done, time_point deadline) {
    while (!done() && clock::now() < deadline) {
        if (!notify_timer_)
            notify_timer_ = std::make_unique<timer_type>(core_.exec());
        notify_timer_->expires_at(deadline);
        error_code ignored;
        notify_waiting_ = true;
        co_await notify_timer_->async_wait(
            boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
        notify_waiting_ = false;
    }
    co_return done();
}

template <class NextLayer>
boost::asio::awaitable<boost::system::error_code> websocket_link<NextLayer>::ending() {
    const error_code reason = core_.stop_reason;
    co_await farewell(reason);
    core_.stop_heartbeat();
    // The connection is torn down: wake whatever Beast left waiting on itself (see unstick_).
    if (running_ != 0)
        for (auto& signal : unstick_)
            signal.emit(boost::asio::cancellation_type::terminal);
    // Every loop returns once the connection is torn down.
    co_await wait_for([this] { return running_ == 0; }, time_point::max());
    ws().control_callback();
    co_return reason;
}

// Best effort, bounded by close_timeout: tell the peer why we end, then tear down.
template <class NextLayer>
boost::asio::awaitable<void> websocket_link<NextLayer>::farewell(error_code reason) {
    namespace websocket = boost::beast::websocket;
    const time_point deadline = clock::now() + config().close_timeout;
    if (says_goodbye(reason) && reason != error::peer_closed && ws().is_open()) {
        // Let the writer (flushing after close()) and the pinger finish. If they cannot within
        // close_timeout, the transport no longer accepts writes: no close frame.
        const bool idle = co_await wait_for(
            [this] { return (writer_done_ || core_.loops_aborting) && pinger_done_; }, deadline);
        if (idle && !write_in_flight_ && ws().is_open()) {
            core_.stop_heartbeat();
            const bool normal = reason == error::session_closed;
            websocket::close_reason cr(static_cast<websocket::close_code>(close_code_for(reason)),
                                       normal ? boost::beast::string_view{}
                                              : boost::beast::string_view(error_name(reason)));
            ++running_;
            ws().async_close(cr, unstickable(close_op, [this](error_code) {
                                 --running_;
                                 close_done_ = true;
                                 notify();
                             }));
            if (normal) {
                // Wait for the peer's close frame (the closing handshake).
                co_await wait_for([this] { return close_done_; }, deadline);
            } else {
                // A peer we gave up on will not answer: wait only until the close frame has
                // left. The socket's write-readiness wait queues behind the write that
                // async_close just started, so it completes once that write has.
                ++running_;
                socket().async_wait(boost::asio::socket_base::wait_write, [this](error_code) {
                    --running_;
                    close_flushed_ = true;
                    notify();
                });
                co_await wait_for([this] { return close_flushed_ || close_done_; }, deadline);
            }
        }
    }
    core_.stop_heartbeat();
    error_code ignored;
    socket().shutdown(boost::asio::socket_base::shutdown_both, ignored);
    socket().close(ignored);
}

} // namespace heartbeat
