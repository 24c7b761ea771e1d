#pragma once
// websocket_link's reader, writer and pinger, each driven by the completions of its own Beast
// operations (concrete handlers that run on the session's executor: no coroutine frame, no type
// erasure). See websocket_link.hpp.
#include <heartbeat/detail/bytes_inside.hpp>
#include <heartbeat/detail/operation_cache.hpp>
#include <heartbeat/protocol/websocket/websocket_heartbeat_codec.hpp>
#include <heartbeat/protocol/websocket/websocket_link.hpp>
#include <heartbeat/session/session_core.hpp>
#include <heartbeat/session/tcp_keepalive.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <cstring>

namespace heartbeat {

template <class NextLayer>
auto websocket_link<NextLayer>::ws() noexcept -> stream_type& {
    return core_.stream();
}

template <class NextLayer>
auto websocket_link<NextLayer>::config() const noexcept -> const config_type& {
    return core_.config();
}

template <class NextLayer>
detail::session_shared_stats& websocket_link<NextLayer>::stats() noexcept {
    return core_.stats();
}

template <class NextLayer>
auto& websocket_link<NextLayer>::socket() {
    return boost::beast::get_lowest_layer(ws());
}

template <class NextLayer>
bool websocket_link<NextLayer>::flushing() const noexcept {
    return core_.draining();
}

template <class NextLayer>
void websocket_link<NextLayer>::start() {
    namespace websocket = boost::beast::websocket;
    auto& s = ws();
    websocket::stream_base::timeout opt{};
    opt.handshake_timeout = websocket::stream_base::none(); // bounds Beast's close handshake
    opt.idle_timeout = websocket::stream_base::none();      // the monitor decides, not Beast
    opt.keep_alive_pings = false;
    s.set_option(opt);
    s.auto_fragment(false); // one async_write_some = one frame
    s.read_message_max(config().max_message_size);
    s.control_callback([this](websocket::frame_type kind, boost::beast::string_view payload) {
        on_control(kind, payload);
    });
    detail::apply_tcp_keepalive(socket(), config().tcp_keepalive, config().heartbeat);
    if (auto err = core_.on_handshake_done(clock::now(), config().heartbeat.interval))
        core_.stop(err);
    ++running_; // the reader, until its read fails (the connection is torn down)
    pump_reader();
    ++running_; // the writer, until writer_finished()
    writer_started_ = true;
    wake_writer_later();
    ++running_; // the pinger, until pinger_finished()
    pump_pinger();
    if (core_.stop_reason) // cancelled before the run started
        begin_ending();
}

// The core stopped: the loops finish (posted: this runs inside cancellation handlers and Beast's
// control callback too), and the ending begins.
template <class NextLayer>
void websocket_link<NextLayer>::on_stop() {
    heartbeat_out_.clear();
    pings_queued_.clear();
    wake_writer_later();
    wake_pinger();
    resume_reader();
    notify();
    if (writer_started_) // else start() begins the ending once it has set the stream up
        begin_ending();
}

template <class NextLayer>
void websocket_link<NextLayer>::begin_ending() {
    if (ending_started_)
        return;
    ending_started_ = true;
    boost::asio::post(core_.exec, [this] {
        boost::asio::co_spawn(core_.exec, ending(), [this](std::exception_ptr ep, error_code r) {
            core_.end_run(ep ? detail::error_of(ep) : r);
        });
    });
}

// A Beast operation cannot be cancelled without failing the stream: the ending stops waiting
// for the writer instead.
template <class NextLayer>
void websocket_link<NextLayer>::abort_io() {
    wake_writer_later();
    notify();
}

// --- reader ----------------------------------------------------------------------------------

// Starts the next read, unless the receive buffer is full (back-pressure: stop reading until
// the application catches up; async_receive or the ending resumes the reader).
template <class NextLayer>
void websocket_link<NextLayer>::pump_reader() {
    if (core_.inbox_full() && !core_.stop_reason) {
        reader_paused_ = true;
        return;
    }
    reader_paused_ = false;
    auto& spares = core_.spare_payloads;
    if (assembled_ == 0 && !spares.empty() && spares.back().capacity() > assembling_.capacity()) {
        assembling_ = std::move(spares.back());
        spares.pop_back();
    }
    // Room for what Beast says is left of the frame (bounded), and never less than the buffer
    // already holds: growing zero-fills, shrinking would give capacity away.
    const std::size_t room =
        std::clamp<std::size_t>(ws().read_size_hint(read_room_min), read_room_min, read_room_max);
    const std::size_t size = std::max(assembled_ + room, assembling_.capacity());
    if (assembling_.size() != size)
        assembling_.resize(size);
    ws().async_read_some(boost::asio::buffer(assembling_.data() + assembled_, size - assembled_),
                         detail::with_operation_cache(
                             core_.exec, [this](error_code ec, std::size_t n) { on_read(ec, n); }));
}

// Through the scheduler: callers include stop(), inside cancellation handlers.
template <class NextLayer>
void websocket_link<NextLayer>::resume_reader() {
    if (!reader_paused_ || reader_resume_posted_)
        return;
    reader_resume_posted_ = true;
    ++running_; // the session must outlive the posted resumption
    boost::asio::post(core_.exec, [this] {
        reader_resume_posted_ = false;
        --running_;
        if (reader_paused_)
            pump_reader();
        notify();
    });
}

template <class NextLayer>
void websocket_link<NextLayer>::on_read(error_code ec, std::size_t n) {
    if (ec) {
        if (!core_.stop_reason)
            core_.stop(detail::map_websocket_error(ec));
        --running_;
        notify();
        return;
    }
    const time_point now = clock::now();
    detail::counter_add(stats().bytes_received, n);
    detail::counter_add(stats().frames_received, 1);
    inbound(now);
    assembled_ += n;
    if (ws().is_message_done()) {
        assembling_.resize(assembled_); // shorter: only the length changes
        assembled_ = 0;
        // The message's buffer moves on to the application; a heartbeat message, not moved,
        // leaves its buffer for the next one.
        on_message(std::move(assembling_), ws().got_text(), now);
        assembling_.clear();
    }
    pump_reader();
}

// Any inbound traffic that is not an answer to one of our pings.
template <class NextLayer>
void websocket_link<NextLayer>::inbound(time_point now) {
    if (core_.stop_reason)
        return;
    if (auto err = core_.inbound(now))
        core_.stop(err);
}

template <class NextLayer>
void websocket_link<NextLayer>::answered(std::uint64_t seq, time_point now) {
    if (core_.stop_reason)
        return;
    if (auto err = core_.pong(seq, now))
        core_.stop(err);
}

// True (and forgets the ping) when (seq, send time) is a ping of ours still remembered.
template <class NextLayer>
bool websocket_link<NextLayer>::take_sent(std::uint64_t seq, std::uint64_t send_time_us) {
    auto& slot = sent_[seq % sent_ring_size];
    if (seq == 0 || slot.seq != seq || slot.send_time_us != send_time_us)
        return false;
    slot = sent_ping{};
    return true;
}

// Beast's control callback: runs inside our pending read, on the stream's executor.
template <class NextLayer>
template <class FrameType>
void websocket_link<NextLayer>::on_control(FrameType kind, boost::beast::string_view payload) {
    namespace websocket = boost::beast::websocket;
    const time_point now = clock::now();
    switch (kind) {
    case websocket::frame_type::ping:
        // Beast writes the pong itself once this returns.
        detail::counter_add(stats().pings_answered, 1);
        inbound(now);
        return;
    case websocket::frame_type::pong: {
        std::uint64_t seq = 0, t = 0;
        if (!config().app_heartbeat.enabled &&
            detail::decode_ws_ping(std::string_view(payload.data(), payload.size()), seq, t) &&
            take_sent(seq, t))
            answered(seq, now);
        else
            inbound(now); // unsolicited or unrecognised: traffic, not an answer
        return;
    }
    case websocket::frame_type::close:
        return; // the pending read completes with websocket::error::closed
    }
}

// A whole message arrived: an application-level heartbeat, or the application's.
template <class NextLayer>
void websocket_link<NextLayer>::on_message(std::string&& payload, bool text, time_point now) {
    const auto& app = config().app_heartbeat;
    if (app.enabled && text && payload.size() <= 160) {
        if (auto hb = detail::parse_app_heartbeat(app.key, payload)) {
            if (take_sent(hb->seq, hb->send_time_us)) {
                answered(hb->seq, now); // our ping, echoed or answered
            } else if (hb->ping && !core_.stop_reason) {
                detail::counter_add(stats().pings_answered, 1);
                heartbeat_out_.push_back(heartbeat_message{
                    detail::encode_app_heartbeat(app.key, {false, hb->seq, hb->send_time_us}), 0});
                wake_writer_later();
            }
            return;
        }
    }
    websocket_message m{std::move(payload),
                        text ? websocket_message_kind::text : websocket_message_kind::binary,
                        next_in_seq_++};
    stats().delivered_seq.store(m.seq, std::memory_order_relaxed);
    core_.deliver_and_hand_over(std::move(m));
}

// --- writer and pinger -----------------------------------------------------------------------

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
    boost::asio::post(core_.exec, [this] {
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
                core_.exec, [this](error_code ec, std::size_t) { on_written(ec, true); }));
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
            core_.exec, [this](error_code ec, std::size_t) { on_written(ec, false); }));
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
        core_.complete_front(1, true);
    pump_writer();
}

// Posted, not inline: callers include Beast's control callback, inside our pending read.
template <class NextLayer>
void websocket_link<NextLayer>::wake_pinger() {
    if (pinger_idle_) {
        pinger_idle_ = false;
        boost::asio::post(core_.exec, detail::with_operation_cache([this] { pump_pinger(); }));
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
                        core_.exec, [this, seq = p.seq](error_code ec) { on_pinged(ec, seq); }));
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
