#pragma once
// websocket_link's setup, stop and reader. The reader, like the writer and the pinger
// (websocket_link_writer.hpp), is driven by the completions of its own Beast operations
// (concrete handlers that run on the session's executor: no coroutine frame, no type erasure).
#include <heartbeat/detail/completion.hpp>
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
    boost::asio::post(core_.exec(), [this] {
        boost::asio::co_spawn(core_.exec(), ending(), [this](std::exception_ptr ep, error_code r) {
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
    ws().async_read_some(
        boost::asio::buffer(assembling_.data() + assembled_, size - assembled_),
        unstickable(read_op,
                    detail::with_operation_cache(
                        core_.exec(), [this](error_code ec, std::size_t n) { on_read(ec, n); })));
}

// Through the scheduler: callers include stop(), inside cancellation handlers.
template <class NextLayer>
void websocket_link<NextLayer>::resume_reader() {
    if (!reader_paused_ || reader_resume_posted_)
        return;
    reader_resume_posted_ = true;
    ++running_; // the session must outlive the posted resumption
    boost::asio::post(core_.exec(), [this] {
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
    assembled_ += n;
    const bool message_done = ws().is_message_done();
    // Beast completes a read with whatever part of a frame has arrived. Counting every such read
    // as life let a peer hold its session forever by trickling one byte of a frame that never
    // ends per ping interval; a message proves life when it completes, or per 4 KiB read of it
    // before that, so a slow link carrying a big single-frame message still keeps it alive.
    partial_unproven_ += n;
    if (message_done || partial_unproven_ >= partial_life_bytes) {
        partial_unproven_ = 0;
        inbound(now);
    }
    if (message_done) {
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
    if (const auto err = detail::error_of_step([&] { return core_.inbound(now); }))
        core_.stop(err);
}

template <class NextLayer>
void websocket_link<NextLayer>::answered(std::uint64_t seq, time_point now) {
    if (core_.stop_reason)
        return;
    if (const auto err = detail::error_of_step([&] { return core_.pong(seq, now); }))
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

} // namespace heartbeat
