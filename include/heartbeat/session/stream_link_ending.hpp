#pragma once
// How a stream_link session ends. Once the reader has ended the session (a verdict cancels its
// read; EOF, a protocol error or close() end it otherwise) the writer stops, a write in flight
// cut short; then the goodbye, the only coroutine of a session, spawned only now: the profile's
// last words (CLOSE, DISCONNECT...) bounded by close_timeout, after close() a bounded wait for
// the peer's EOF so our close does not turn into a reset that destroys data the peer has not
// read yet; then the stream is shut down and closed and the core completes the run.
#include <heartbeat/core/close_code.hpp>
#include <heartbeat/detail/operation_cache.hpp>
#include <heartbeat/session/session_core.hpp>
#include <heartbeat/session/stream_control.hpp>
#include <heartbeat/session/stream_link.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>

namespace heartbeat {

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::after_reader() {
    if (!writer_done_) {
        // The reader ended the session: the writer stops (a write in flight is cut short, as the
        // peer is gone or the session was cancelled) before the farewell writes.
        if (!core_.stop_reason)
            core_.stop_reason = reader_result_;
        core_.loops_aborting = true;
        if (writer_idle_) {
            writer_idle_ = false;
            writer_finish(core_.stop_reason);
        } else {
            farewell_waits_for_writer_ = true; // writer_finish() goes on
            detail::cancel_io(stream());
            return;
        }
    }
    say_farewell();
}

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::say_farewell() {
    core_.stop_heartbeat();
    if (wake_timer_)
        wake_timer_->cancel();
    wake_armed_ = false;
    error_code reason = reader_result_;
    if (core_.stop_reason)
        reason = core_.stop_reason;
    core_.stop_reason = reason;
    boost::asio::co_spawn(core_.exec(), farewell(reason), [this, reason](std::exception_ptr ep) {
        core_.end_run(ep ? detail::error_of(ep) : reason);
    });
}

// Best effort, bounded by close_timeout: tell the peer why we end, then tear down.
template <byte_stream_profile Profile, class Stream>
boost::asio::awaitable<void> stream_link<Profile, Stream>::farewell(error_code reason) {
    using namespace boost::asio::experimental::awaitable_operators;
    // Say why on the wire unless the transport is gone or a cut write left a partial frame.
    if (says_goodbye(reason) && !stream_dirty_) {
        std::vector<std::uint8_t> bytes;
        if (reason == error::session_closed)
            control_out_.clear(); // anything left here is heartbeat traffic
        bytes.swap(control_out_);
        profile_.goodbye(bytes, reason);
        timer_type close_timer(core_.exec()); // only the farewell needs it: not kept per session
        close_timer.expires_after(config().close_timeout);
        bool written = bytes.empty();
        if (!written) {
            auto r = co_await (
                boost::asio::async_write(stream(), boost::asio::buffer(bytes),
                                         boost::asio::as_tuple(boost::asio::use_awaitable)) ||
                close_deadline(close_timer));
            written = r.index() == 0 && !std::get<0>(std::get<0>(r));
        }
        if (reason == error::session_closed && written) {
            // Graceful close: wait (bounded) for the peer to close its side, reading what it
            // still sends.
            detail::shutdown_stream(stream(), boost::asio::socket_base::shutdown_send);
            co_await (drain_until_eof() || close_deadline(close_timer));
        }
    }
    detail::shutdown_stream(stream(), boost::asio::socket_base::shutdown_both);
    detail::close_stream(stream());
}

// The losing branch of an awaitable || is only asked to stop through its cancellation slot,
// which a stream need not honour (session_stream requires no per-operation cancellation), and
// the || waits for it: when the deadline wins, end the stream's pending operations ourselves.
template <byte_stream_profile Profile, class Stream>
boost::asio::awaitable<void> stream_link<Profile, Stream>::close_deadline(timer_type& timer) {
    auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
    if (!ec)
        detail::cancel_io(stream());
}

template <byte_stream_profile Profile, class Stream>
boost::asio::awaitable<void> stream_link<Profile, Stream>::drain_until_eof() {
    std::array<std::uint8_t, 4096> scratch;
    for (;;) {
        auto [ec, n] = co_await stream().async_read_some(
            boost::asio::buffer(scratch), boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec)
            co_return;
    }
}

} // namespace heartbeat
