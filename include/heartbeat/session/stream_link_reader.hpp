#pragma once
// stream_link's reader, driven by the completions of its own reads (no coroutine frame per
// session): one read outstanding, or paused while the inbox is over its limit, or done. The
// profile parses what each read brought, one frame per call.
#include <heartbeat/detail/operation_cache.hpp>
#include <heartbeat/session/session_core.hpp>
#include <heartbeat/session/stream_link.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>

#include <algorithm>

namespace heartbeat {

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::start_reader() {
    // As small as a raw reader's: an idle session only ever reads pings and pongs, and
    // read_next/take_read double it as soon as reads fill it.
    read_buffer_.resize(std::min<std::size_t>(64, profile_.max_frame_size()));
    read_next();
}

// Starts the next read, pauses (back-pressure: resume_reader() restarts it), or ends.
template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::read_next() {
    if (writer_done_)
        return reader_finish(writer_result_);
    if (stopping())
        return reader_finish(core_.stop_reason);
    if (core_.inbox_full() && !core_.stop_reason) {
        reader_paused_ = true;
        return;
    }
    reader_paused_ = false;
    // Small while idle (most sessions mostly are); a read that fills the free space means more
    // is waiting, so the buffer doubles then, up to 64 KiB (bigger frames grow it in take_read).
    const std::size_t max_frame = profile_.max_frame_size();
    if (read_buffer_.size() - read_end_ < 256 && read_begin_ > 0) {
        std::copy(read_buffer_.begin() + read_begin_, read_buffer_.begin() + read_end_,
                  read_buffer_.begin());
        read_end_ -= read_begin_;
        read_begin_ = 0;
    }
    if (read_end_ == read_buffer_.size()) {
        const std::size_t doubled = read_buffer_.size() * 2;
        read_buffer_.resize(doubled < max_frame ? doubled : max_frame);
    }
    stream().async_read_some(
        boost::asio::buffer(read_buffer_.data() + read_end_, read_buffer_.size() - read_end_),
        detail::with_operation_cache([this](error_code ec, std::size_t n) { on_read(ec, n); }));
}

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::on_read(error_code ec, std::size_t n) {
    const error_code reason = detail::error_of_step([&] { return take_read(ec, n); });
    if (reason)
        return reader_finish(reason);
    read_next();
}

// Handles what a read brought; returns why the session must end, or {} to read on.
template <byte_stream_profile Profile, class Stream>
auto stream_link<Profile, Stream>::take_read(error_code ec, std::size_t n) -> error_code {
    if (writer_done_)
        return writer_result_;
    if (stopping())
        return core_.stop_reason;
    if (ec) {
        if (ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
            ec == boost::asio::ssl::error::stream_truncated) {
            if (read_end_ != read_begin_)
                return error::truncated_frame;
            // A profile may call a hang-up before its handshake a refusal (handshake_failed).
            if constexpr (requires { Profile::closed_during_handshake; })
                if (!core_.handshake_done)
                    return Profile::closed_during_handshake;
            return error::peer_closed;
        }
        return ec;
    }
    const std::size_t max_frame = profile_.max_frame_size();
    const bool filled = read_end_ + n == read_buffer_.size();
    read_end_ += n;
    detail::counter_add(stats().bytes_received, n);
    if (filled && read_buffer_.size() < std::min<std::size_t>(64 * 1024, max_frame))
        read_buffer_.resize(std::min<std::size_t>({read_buffer_.size() * 2, 64 * 1024, max_frame}));
    now_ = clock::now();
    saw_inbound_ = false;
    while (read_begin_ != read_end_) { // usually the read ended on a frame boundary
        const std::span<const std::uint8_t> unparsed(read_buffer_.data() + read_begin_,
                                                     read_end_ - read_begin_);
        const frame_status r = profile_.parse(*this, unparsed);
        if (r.st == frame_status::status::complete) {
            read_begin_ += r.consumed;
            continue;
        }
        if (r.st == frame_status::status::error)
            return r.ec;
        if (r.need > read_buffer_.size() - read_begin_) {
            // Make room for the frame as its bytes come (doubling, up to what it needs), never
            // ahead of them: a header may claim up to the profile's largest frame (256 MiB for
            // RESP and MQTT by default), and a peer that sends one and holds must not cost that.
            std::copy(read_buffer_.begin() + read_begin_, read_buffer_.begin() + read_end_,
                      read_buffer_.begin());
            read_end_ -= read_begin_;
            read_begin_ = 0;
            if (r.need > read_buffer_.size())
                read_buffer_.resize(std::min(r.need, read_buffer_.size() * 2));
        }
        break;
    }
    if (read_begin_ == read_end_)
        read_begin_ = read_end_ = 0;
    if (saw_inbound_)
        if (auto err = core_.inbound(now_))
            return err;
    // First the application, whose reply (written at once) may carry the ACK.
    core_.hand_over_received();
    if constexpr (requires { profile_.on_taken(*this, now_); })
        profile_.on_taken(*this, now_);
    return {};
}

// Restarts a paused reader, through the scheduler: callers are stop() (which runs inside
// cancellation handlers too), the writer's end and async_receive's initiation.
template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::resume_reader() {
    if (!reader_paused_ || reader_resume_posted_)
        return;
    reader_resume_posted_ = true;
    boost::asio::post(core_.exec(), detail::with_operation_cache([this] {
                          reader_resume_posted_ = false;
                          if (reader_paused_)
                              read_next();
                      }));
}

// The reader has ended the session: the run goes on from the scheduler (the reader may be deep
// in a completion here).
template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::reader_finish(error_code reason) {
    reader_done_ = true;
    reader_paused_ = false;
    reader_result_ = reason;
    boost::asio::post(core_.exec(), detail::with_operation_cache([this] { after_reader(); }));
}

} // namespace heartbeat
