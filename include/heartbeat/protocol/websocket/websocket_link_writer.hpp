#pragma once
// websocket_link's writer and pinger, each driven by the completions of its own Beast operations.
// The writer writes messages as frames of at most fragment_size bytes (one async_write_some per
// frame), application-level heartbeats between messages; the pinger writes control pings, one
// async_ping at a time, which Beast slips between the writer's frames.
#include <heartbeat/detail/bytes_inside.hpp>
#include <heartbeat/detail/operation_cache.hpp>
#include <heartbeat/protocol/websocket/websocket_heartbeat_codec.hpp>
#include <heartbeat/protocol/websocket/websocket_link.hpp>
#include <heartbeat/session/session_core.hpp>

#include <boost/asio/post.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <cstring>

namespace heartbeat {

template <class NextLayer>
void websocket_link<NextLayer>::queue_ping(std::uint64_t seq, time_point now) {
    const sent_ping p{seq, to_wire_micros(now)};
    sent_[seq % sent_ring_size] = p;
    if (config().app_heartbeat.enabled) {
        heartbeat_out_.push_back(heartbeat_message{
            detail::encode_app_heartbeat(config().app_heartbeat.key, {true, p.seq, p.send_time_us}),
            seq});
        wake_writer_later();
    } else {
        pings_queued_.push_back(sent_ping(p));
        wake_pinger();
    }
}

// Through the scheduler: for callers inside Beast's control callback, cancellation handlers and
// the core's stop, where the writer must not start a write on their stack.
template <class NextLayer>
void websocket_link<NextLayer>::wake_writer_later() {
    if (!writer_started_ || writer_done_ || write_in_flight_ || writer_wake_posted_)
        return;
    writer_wake_posted_ = true;
    ++running_; // the session must outlive the posted wake
    boost::asio::post(core_.exec(), [this] {
        writer_wake_posted_ = false;
        --running_;
        pump_writer();
        notify();
    });
}

template <class NextLayer>
void websocket_link<NextLayer>::write_failed(error_code ec) {
    if (!core_.stop_reason)
        core_.stop(detail::map_websocket_error(ec));
}

// The writer ends: no write of its own will start again.
template <class NextLayer>
void websocket_link<NextLayer>::writer_finished() {
    writer_done_ = true;
    --running_;
    notify();
}

// Data messages, one frame (async_write_some) at a time; application-level heartbeats at
// message boundaries. Starts the next write when there is something to write and no write is in
// flight; on_written() calls it again when a write has completed.
template <class NextLayer>
void websocket_link<NextLayer>::pump_writer() {
    if (!writer_started_ || writer_done_ || write_in_flight_)
        return;
    if (core_.stop_reason && !flushing()) {
        writer_finished();
        return;
    }
    auto& queue = core_.send_queue;
    const bool mid_message = !queue.empty() && queue.front().offset > 0;
    if (!mid_message && !heartbeat_out_.empty()) {
        heartbeat_writing_ = std::move(heartbeat_out_.front());
        heartbeat_out_.pop_front();
        ws().text(true);
        write_in_flight_ = true;
        ws().async_write(
            boost::asio::buffer(heartbeat_writing_.text),
            detail::with_operation_cache(
                core_.exec(), [this](error_code ec, std::size_t) { on_written(ec, true); }));
        return;
    }
    while (!queue.empty() && queue.front().withdrawn)
        queue.pop_front();
    if (queue.empty()) {
        if (core_.stop_reason)
            writer_finished(); // closing and everything flushed
        return;
    }
    auto& m = queue.front();
    if (m.offset == 0)
        ws().text(m.tag.text); // the opcode of the message's first frame
    const std::size_t remaining = m.payload.size() - m.offset;
    const std::size_t chunk = std::min(remaining, config().fragment_size);
    writing_id_ = m.id;
    writing_chunk_ = chunk;
    write_in_flight_ = true;
    const char* bytes = m.payload.data() + m.offset;
    if (detail::bytes_inside(m.payload)) {
        std::memcpy(short_payload_stage_.data(), bytes, chunk);
        bytes = short_payload_stage_.data();
    }
    ws().async_write_some(
        chunk == remaining, boost::asio::buffer(bytes, chunk),
        detail::with_operation_cache(
            core_.exec(), [this](error_code ec, std::size_t) { on_written(ec, false); }));
}

template <class NextLayer>
void websocket_link<NextLayer>::on_written(error_code ec, bool heartbeat) {
    write_in_flight_ = false;
    writing_id_ = 0;
    notify();
    if (ec) {
        write_failed(ec);
        writer_finished();
        return;
    }
    detail::counter_add(stats().frames_sent, 1);
    if (heartbeat) {
        if (heartbeat_writing_.ping_seq != 0 && !core_.stop_reason) {
            const time_point now = clock::now();
            core_.ping_written(heartbeat_writing_.ping_seq, now, now);
        }
        pump_writer();
        return;
    }
    auto& written = core_.send_queue.front(); // still the same message: only the writer pops
    written.offset += writing_chunk_;
    detail::counter_add(stats().bytes_sent, writing_chunk_);
    if (written.offset == written.payload.size())
        // The handler may send again (pumping the writer itself); pump afterwards too, for
        // whatever else is queued.
        core_.complete_written_front();
    pump_writer();
}

// Posted, not inline: callers include Beast's control callback, inside our pending read.
template <class NextLayer>
void websocket_link<NextLayer>::wake_pinger() {
    if (pinger_idle_) {
        pinger_idle_ = false;
        boost::asio::post(core_.exec(), detail::with_operation_cache([this] { pump_pinger(); }));
    }
}

// Control pings, one async_ping at a time (Beast allows one), driven by their completions.
// async_ping completes when the ping frame has been written: that is when its pong deadline
// starts. The pinger counts in running_ until pinger_finished().
template <class NextLayer>
void websocket_link<NextLayer>::pump_pinger() {
    if (pinger_done_ || ping_in_flight_)
        return;
    if (core_.stop_reason)
        return pinger_finished();
    if (pings_queued_.empty()) {
        pinger_idle_ = true;
        return;
    }
    const sent_ping p = pings_queued_.front();
    pings_queued_.pop_front();
    const std::string payload = detail::encode_ws_ping(p.seq, p.send_time_us);
    ping_in_flight_ = true;
    ws().async_ping(boost::beast::websocket::ping_data(payload.data(), payload.size()),
                    detail::with_operation_cache(
                        core_.exec(), [this, seq = p.seq](error_code ec) { on_pinged(ec, seq); }));
}

template <class NextLayer>
void websocket_link<NextLayer>::on_pinged(error_code ec, std::uint64_t seq) {
    ping_in_flight_ = false;
    notify();
    if (ec) {
        write_failed(ec);
        return pinger_finished();
    }
    if (!core_.stop_reason) {
        const time_point now = clock::now();
        core_.ping_written(seq, now, now);
    }
    pump_pinger();
}

template <class NextLayer>
void websocket_link<NextLayer>::pinger_finished() {
    pinger_done_ = true;
    --running_;
    notify();
}

} // namespace heartbeat
