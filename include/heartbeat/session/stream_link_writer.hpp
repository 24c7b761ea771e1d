#pragma once
// stream_link's writer, on plain callbacks, started directly by whoever queues something: control
// bytes (pings, pongs, acks, the handshake) first, then queued messages — small ones batched
// into one write, a large one a chunk at a time where the profile lets pings slip between chunks —
// or idle; done once the session stops.
#include <heartbeat/detail/bytes_inside.hpp>
#include <heartbeat/detail/operation_cache.hpp>
#include <heartbeat/detail/peer_went_away.hpp>
#include <heartbeat/session/session_core.hpp>
#include <heartbeat/session/stream_control.hpp>
#include <heartbeat/session/stream_link.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

#include <cstring>
#include <span>

namespace heartbeat {

// Starts the idle writer at once, on the caller's stack (we always run on the session's
// executor): what the caller just queued is written before the caller returns, with no trip
// through the scheduler. Never completes anything: a write only starts here.
template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::wake_writer() {
    if (!writer_idle_)
        return;
    writer_idle_ = false;
    write_next();
}

// As wake_writer, from on_stop(), which also runs inside cancellation handlers.
template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::wake_writer_later() {
    if (!writer_idle_)
        return;
    writer_idle_ = false;
    boost::asio::post(core_.exec(), [this] { write_next(); });
}

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::queue_ping(std::uint64_t seq, time_point now) {
    // Listed first: the writer may start at once, and it must know which pings its batch
    // carries to start their pong deadlines from the write.
    pings_queued_.push_back(seq);
    profile_.encode_ping(control_out_, seq, now);
    wake_writer();
}

// The profile has something due at `t` when the writer is idle (a lone ACK, a keep-alive).
template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::wake_at(time_point t) {
    if (wake_armed_ && wake_due_ <= t)
        return;
    wake_armed_ = true;
    wake_due_ = t;
    if (!wake_timer_)
        wake_timer_ = std::make_unique<timer_type>(core_.exec());
    wake_timer_->expires_at(t);
    wake_timer_->async_wait([this](error_code ec) {
        if (ec)
            return; // re-armed, or the run ended (the farewell cancels it before it completes)
        wake_armed_ = false;
        wake_writer();
    });
}

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::write_next() {
    if (stopping())
        return writer_finish(core_.stop_reason);
    auto& queue = core_.send_queue;
    write_buffers_.clear();
    batch_entries_ = 0;
    data_frames_ = 0;
    // Withdrawn (cancelled) messages at the front are simply dropped.
    while (!queue.empty() && queue.front().withdrawn)
        queue.pop_front();
    if (queue.empty() && control_out_.empty()) {
        if (core_.stop_reason)
            return writer_finish(core_.stop_reason); // closing and everything flushed
        bool due = false; // the common case after a write: nothing more to do
        if constexpr (requires { profile_.on_writer_idle(*this); })
            due = profile_.on_writer_idle(*this) && !control_out_.empty();
        if (!due) {
            writer_idle_ = true;
            return;
        }
    }
    if constexpr (requires { profile_.before_write(*this); })
        profile_.before_write(*this); // e.g. a cumulative ACK rides on any write
    control_writing_.clear();
    pings_writing_.clear();
    std::swap(control_writing_, control_out_);
    std::swap(pings_writing_, pings_queued_);
    // When the write began, for the round trips of the pings in it and, where the profile
    // measures them from its ACKs (on_message_written), of the messages it completes.
    const auto note_write_start = [this] {
        write_started_ = time_point{};
        if constexpr (requires { profile_.wants_write_time(time_point{}); })
            if (data_frames_ != 0 && profile_.wants_write_time(now_)) {
                write_started_ = clock::now();
                return;
            }
        for (const std::uint64_t seq : pings_writing_)
            if (seq != 0) {
                write_started_ = clock::now();
                break;
            }
    };
    if (queue.empty()) {
        // Control bytes alone (an idle session's pings): one buffer, no gather list (whose
        // capacity every idle session would otherwise keep).
        in_write_ = 0;
        note_requests_in_order();
        note_write_start();
        boost::asio::async_write(
            stream(), boost::asio::const_buffer(control_writing_.data(), control_writing_.size()),
            written_handler());
        return;
    }
    if (!control_writing_.empty())
        write_buffers_.emplace_back(boost::asio::buffer(control_writing_));
    const std::size_t batch_limit = profile_.chunk_size();
    std::size_t batch_bytes = 0;
    for (std::size_t i = 0;
         i < queue.size() && batch_entries_ < max_batch_frames && batch_bytes < batch_limit; ++i) {
        auto& m = queue[i];
        if (!staging_)
            staging_ = std::make_unique<message_staging>();
        if (m.withdrawn) { // keeps indices aligned; not written
            staging_->chunk_sizes[batch_entries_] = 0;
            staging_->frame_sizes[batch_entries_++] = 0;
            continue;
        }
        const std::size_t remaining = m.payload.size() - m.offset;
        const std::size_t chunk =
            Profile::pings_between_chunks ? std::min(remaining, batch_limit) : remaining;
        const bool fin = chunk == remaining;
        const std::span<const std::uint8_t> suffix = profile_.suffix(fin);
        std::size_t frame = 0;
        if (detail::bytes_inside(m.payload)) {
            auto& staged = staging_->short_frames[batch_entries_];
            const std::size_t p = profile_.prefix(staged.data(), chunk, fin);
            std::memcpy(staged.data() + p, m.payload.data() + m.offset, chunk);
            if (!suffix.empty())
                std::memcpy(staged.data() + p + chunk, suffix.data(), suffix.size());
            frame = p + chunk + suffix.size();
            write_buffers_.emplace_back(boost::asio::buffer(staged.data(), frame));
        } else {
            auto& prefix = staging_->prefixes[batch_entries_];
            const std::size_t p = profile_.prefix(prefix.data(), chunk, fin);
            if (p)
                write_buffers_.emplace_back(boost::asio::buffer(prefix.data(), p));
            if (chunk)
                write_buffers_.emplace_back(
                    boost::asio::buffer(m.payload.data() + m.offset, chunk));
            if (!suffix.empty())
                write_buffers_.emplace_back(boost::asio::buffer(suffix.data(), suffix.size()));
            frame = p + chunk + suffix.size();
        }
        ++data_frames_;
        staging_->chunk_sizes[batch_entries_] = chunk;
        staging_->frame_sizes[batch_entries_++] = frame;
        batch_bytes += frame;
        if (!fin)
            break; // the rest of this message waits behind any new control frame
    }
    in_write_ = batch_entries_;
    note_requests_in_order();
    note_write_start();
    auto done = written_handler();
    // A batch of one buffer, or a small one copied into one, goes out through Asio's
    // single-buffer write, much cheaper than its gather path (copying a few hundred bytes costs
    // less than the difference).
    std::size_t total = 0;
    for (const auto& b : write_buffers_)
        total += b.size();
    if (write_buffers_.size() == 1 || total <= coalesce_limit) {
        boost::asio::const_buffer one = write_buffers_.front();
        if (write_buffers_.size() > 1) {
            auto& coalesced = staging_->coalesced;
            if (coalesced.size() < total)
                coalesced.resize(total);
            std::uint8_t* out = coalesced.data();
            for (const auto& b : write_buffers_) {
                std::memcpy(out, b.data(), b.size());
                out += b.size();
            }
            one = boost::asio::const_buffer(coalesced.data(), total);
        }
        boost::asio::async_write(stream(), one, std::move(done));
        return;
    }
    // A span, not the vector: async_write copies its buffer sequence into the operation, and
    // copying a vector is an allocation per write.
    boost::asio::async_write(stream(), std::span<const boost::asio::const_buffer>(write_buffers_),
                             std::move(done));
}

// in_order profiles: the replies to this write's pings and requests come back in this order.
template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::note_requests_in_order() {
    if constexpr (Profile::matching == ping_matching::in_order) {
        for (const std::uint64_t seq : pings_writing_)
            awaiting_.push_back(seq | ping_bit);
        auto& queue = core_.send_queue;
        for (std::size_t i = 0; i < batch_entries_; ++i) {
            const auto& m = queue[i];
            if (m.withdrawn || m.offset + staging_->chunk_sizes[i] != m.payload.size())
                continue;
            if (const std::uint32_t replies = profile_.replies_expected(m.tag))
                awaiting_.push_back(replies);
        }
    }
}

template <byte_stream_profile Profile, class Stream>
auto stream_link<Profile, Stream>::written_handler() {
    return detail::with_operation_cache(
        [this](error_code ec, std::size_t n) { on_written(ec, n); });
}

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::on_written(error_code ec, std::size_t n) {
    in_write_ = 0;
    auto& queue = core_.send_queue;
    if (ec) {
        stream_dirty_ = true;
        // Messages whose last chunk went out whole before the cut did reach the transport:
        // report them sent, the rest fail with the reason.
        std::size_t left = n > control_writing_.size() ? n - control_writing_.size() : 0;
        std::size_t whole = 0;
        for (std::size_t i = 0; i < batch_entries_; ++i) {
            auto& m = queue[i];
            if (m.withdrawn) {
                ++whole;
                continue;
            }
            if (left < staging_->frame_sizes[i])
                break;
            left -= staging_->frame_sizes[i];
            m.offset += staging_->chunk_sizes[i];
            if (m.offset != m.payload.size())
                break;
            ++whole;
        }
        detail::counter_add(stats().bytes_sent, n);
        core_.complete_front(whole);
        if (core_.stop_reason)
            return writer_finish(core_.stop_reason);
        // The same ending the reader reports.
        if (detail::peer_went_away(ec))
            return writer_finish(error::peer_closed);
        return writer_finish(ec);
    }
    detail::counter_add(stats().bytes_sent, n);
    if (write_started_ != time_point{}) {
        const time_point now = clock::now();
        for (const std::uint64_t seq : pings_writing_)
            if (seq != 0)
                core_.ping_written(seq, now, write_started_);
    }
    std::size_t finished = 0;
    for (std::size_t i = 0; i < batch_entries_; ++i) {
        auto& m = queue[i];
        m.offset += staging_->chunk_sizes[i];
        if (m.withdrawn || m.offset == m.payload.size())
            ++finished;
        else
            break;
        if constexpr (requires { profile_.on_message_written(*this, time_point{}); })
            if (!m.withdrawn)
                profile_.on_message_written(*this, write_started_);
    }
    detail::counter_add(stats().frames_sent, data_frames_);
    core_.complete_front(finished, true);
    write_next();
}

// The writer ends the session (closing and flushed, a write error, or the session stopped): the
// reader stops too, whatever it was waiting for, and the run may say farewell.
template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::writer_finish(error_code reason) {
    // A failed write is the session's ending from now on: a close() before the reader has come
    // round must not turn it into session_closed.
    if (!core_.stop_reason)
        core_.stop_reason = reason;
    writer_done_ = true;
    writer_result_ = reason;
    detail::cancel_io(stream());
    resume_reader();
    if (farewell_waits_for_writer_) {
        farewell_waits_for_writer_ = false;
        boost::asio::post(core_.exec(), detail::with_operation_cache([this] { say_farewell(); }));
    }
}

} // namespace heartbeat
