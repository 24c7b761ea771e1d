#pragma once
// Implementation of websocket_session<NextLayer>. Included by src/websocket_instantiations.cpp
// for the stock next layers; include it yourself (once, in one .cpp) to instantiate a session
// over another next layer: `template class heartbeat::websocket_session<my_next_layer>;`.
//
// Shape of the run loop (mirrors basic_session's, adapted to Beast's rules: one read, one
// write and one ping may be outstanding at a time, and a Beast operation cannot be cancelled
// without failing the whole stream, so no loop is ever cancelled mid-operation):
//
//   run()  - sets the stream up, starts the monitor, starts the reader and the writer (each
//            driven by its own completions), starts the pinger (likewise), then runs the
//            heartbeat loop itself until a stop reason is set (verdict, peer close, error,
//            close(), cancel()); then farewell(): lets an in-flight frame finish, sends the
//            close frame, tears the connection down, and waits until every loop has returned.
#include <heartbeat/detail/monitor_step_report.hpp>
#include <heartbeat/detail/operation_cache.hpp>
#include <heartbeat/detail/queued_send.hpp>
#include <heartbeat/detail/ring_queue.hpp>
#include <heartbeat/detail/running_in_this_thread.hpp>
#include <heartbeat/detail/session_impl.hpp> // session_shared_stats, complete_later, keepalive
#include <heartbeat/detail/single_writer_counter.hpp>
#include <heartbeat/websocket_session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstring>
#include <string_view>
#include <utility>

namespace heartbeat {

// All mutable state of a running websocket session; touched only on the stream's executor.
template <class NextLayer>
struct websocket_session<NextLayer>::run_loops {
    using timer_type = boost::asio::steady_timer;
    using error_code = boost::system::error_code;

    struct outgoing_message {
        std::string payload;
        std::size_t offset = 0;
        send_box handler;
        std::uint64_t id = 0;
        bool withdrawn = false; // cancelled before its first frame; skipped by the writer
        bool text = false;
        bool direct = false; // the handler runs on our executor
    };
    struct heartbeat_message { // application-level heartbeat (text data message)
        std::string text;
        std::uint64_t ping_seq = 0; // non-zero: our ping; 0: our answer to the peer's ping
    };
    struct sent_ping {
        std::uint64_t seq = 0;
        std::uint64_t send_time_us = 0;
    };
    // Pings remembered to recognise their pongs; as many as the monitor keeps in flight (a
    // verdict with max_missed up to 7 has all of its pings here). A pong for an older one
    // counts as traffic, not as an answer. Per session, so kept small.
    static constexpr std::size_t sent_ring_size = 8;

    // The reader, the writer and the pinger are driven by the completions of their own
    // operations: concrete handlers (no coroutine frame, no type erasure) that run on `exec`.
    auto on_read_done() {
        return detail::with_operation_cache(
            exec, [this](error_code ec, std::size_t n) { on_read(ec, n); });
    }
    // `heartbeat`: the write of an application-level heartbeat message, not a queued one.
    auto on_write_done(bool heartbeat) {
        return detail::with_operation_cache(
            exec, [this, heartbeat](error_code ec, std::size_t) { on_written(ec, heartbeat); });
    }
    auto on_ping_done(std::uint64_t seq) {
        return detail::with_operation_cache(exec,
                                            [this, seq](error_code ec) { on_pinged(ec, seq); });
    }

    explicit run_loops(websocket_session& s)
        : self(s), ws(*s.ws_), exec(s.executor_), heartbeat_timer(exec),
          monitor(s.config_.heartbeat) {}

    websocket_session& self;
    stream_type& ws;
    executor_type exec;
    timer_type heartbeat_timer; // armed for monitor.next_deadline()
    // run() sleeps on it while ending; cancelled on every change. Created when run() first
    // waits on it: a session that has not started to end does not need it.
    std::unique_ptr<timer_type> notify_timer;
    heartbeat_monitor monitor;

    bool run_started = false;
    bool ended = false;
    bool closing = false;              // close() called: flush, then close frame 1000
    bool writer_started = false;       // run() has set the stream up: the writer may write
    bool writer_wake_posted = false;   // a posted pump_writer() is pending
    bool notify_waiting = false;       // run() sleeps on notify_timer
    bool pinger_idle = false;          // no ping queued, none in flight: wake_pinger() restarts it
    bool reader_paused = false;        // the receive buffer is full: no read outstanding
    bool reader_resume_posted = false; // a posted pump_reader() is pending
    bool write_in_flight = false;      // an async_write / async_write_some of ours is pending
    std::size_t writing_chunk = 0;     // bytes of the queued message's frame being written
    heartbeat_message heartbeat_writing; // the application-level heartbeat being written
    bool ping_in_flight = false;         // an async_ping of ours is pending
    std::uint64_t writing_id = 0;        // message whose frame is being written
    unsigned running = 0; // spawned loops and close/wait operations not yet completed
    bool writer_done = false, pinger_done = false;
    bool close_done = false;    // async_close completed
    bool close_flushed = false; // the socket accepted the close frame
    time_point armed_deadline = time_point::max();
    error_code stop_reason; // first reason to stop, set by whoever sees it first
    error_code end_reason;  // final, once the run has completed

    // Outgoing.
    detail::ring_queue<outgoing_message> send_queue;
    // A short payload keeps its bytes inside the string object, which moves when the ring
    // grows: its frame is written from here instead.
    std::array<char, sizeof(std::string)> short_payload_stage{};
    // A sent payload's buffer, kept for the next inbound message (an echo then allocates
    // nothing per message); only small ones, so an idle session holds little.
    static constexpr std::size_t spare_capacity_max = 1024;
    std::string spare_payload;
    std::uint64_t next_message_id = 1;
    detail::ring_queue<heartbeat_message> heartbeat_out;
    detail::ring_queue<sent_ping> pings_queued;
    std::array<sent_ping, sent_ring_size> sent{}; // pings in flight, by seq % size

    // Inbound. The message being read is read straight into its own buffer: Beast fills
    // assembling[assembled, size()).
    static constexpr std::size_t read_room_min = 256;
    static constexpr std::size_t read_room_max = 64 * 1024;
    std::string assembling;
    std::size_t assembled = 0;
    detail::ring_queue<websocket_message> inbox;
    std::size_t inbox_bytes = 0;
    std::uint64_t next_in_seq = 1;

    std::optional<receive_box> pending_receive;
    bool pending_receive_direct = false; // its handler runs on our executor
    std::optional<event_handler> pending_event;
    detail::event_queue events;
    bool ended_event_taken = false;
    std::optional<run_handler> run_completion;

    // --- helpers ---------------------------------------------------------------------------

    auto& socket() { return boost::beast::get_lowest_layer(ws); }

    void notify() {
        if (notify_waiting)
            notify_timer->cancel(); // notify_waiting: it exists
    }

    void stop(error_code ec) {
        if (!stop_reason)
            stop_reason = ec;
        heartbeat_out.clear();
        pings_queued.clear();
        wake_writer();
        wake_pinger();
        heartbeat_timer.cancel();
        resume_reader();
        notify();
    }

    // Through the scheduler: for callers inside Beast's control callback, cancellation
    // handlers and stop(), where the writer must not start a write on their stack.
    void wake_writer() {
        if (!writer_started || writer_done || write_in_flight || writer_wake_posted)
            return;
        writer_wake_posted = true;
        ++running; // the session must outlive the posted wake
        boost::asio::post(exec, [this] {
            writer_wake_posted = false;
            --running;
            pump_writer();
            notify();
        });
    }

    // At once, on the caller's stack: async_send's initiation (always on our executor), so the
    // message's first frame is written before async_send returns, without a scheduler trip.
    void wake_writer_now() { pump_writer(); }

    // Completes a stored handler from inside another operation's completion (never from its
    // own initiating function, so "never inline" holds): directly when it runs on our
    // executor anyway, else through the scheduler.
    template <class Handler, class... Args>
    void complete_from_run_loop(Handler&& handler, bool direct, Args&&... args) {
        if (!direct) {
            detail::complete_later(std::forward<Handler>(handler), exec,
                                   std::forward<Args>(args)...);
            return;
        }
        detail::invoke_now(std::forward<Handler>(handler), exec, std::forward<Args>(args)...);
    }

    // Posted, not inline: callers include Beast's control callback, inside our pending read.
    void wake_pinger() {
        if (pinger_idle) {
            pinger_idle = false;
            boost::asio::post(exec, detail::with_operation_cache([this] { pump_pinger(); }));
        }
    }

    void push_event(session_event e) {
        if (pending_event) {
            auto h = std::move(*pending_event);
            pending_event.reset();
            if (e.kind == session_event_kind::ended)
                ended_event_taken = true;
            detail::complete_later(std::move(h), exec, error_code{}, std::move(e));
            return;
        }
        if (const auto dropped = events.push(std::move(e), self.config_.event_queue_capacity))
            detail::counter_add(self.shared_->events_dropped, dropped);
    }

    void publish_monitor() {
        std::lock_guard lock(self.shared_->mutex);
        self.shared_->state = monitor.state();
        self.shared_->missed = monitor.missed();
        self.shared_->interval = monitor.interval();
        self.shared_->pong_timeout = monitor.pong_timeout();
        self.shared_->rtt = snapshot(monitor.rtt());
        self.shared_->heartbeat = monitor.counters();
    }

    // The heartbeat timer sleeps until `armed_deadline`; wake it when the monitor wants to be
    // called earlier, or it would mistake its own late wake-up for a local stall.
    void rearm_if_earlier() {
        if (monitor.next_deadline() < armed_deadline) {
            armed_deadline = monitor.next_deadline();
            heartbeat_timer.cancel();
        }
    }

    // Applies what the monitor asked for; returns an error when the session must end.
    error_code apply(const monitor_step& step, peer_state before, time_point now) {
        if (step.error)
            return step.error;
        rearm_if_earlier();
        if (step.send_ping)
            queue_ping(step.send_ping, now);
        const auto push = [this](session_event e) { push_event(std::move(e)); };
        detail::report_progress(step, before, monitor, self.callbacks_, push);
        if (step.rtt || step.state_changed || step.send_ping)
            publish_monitor();
        detail::report_verdict(step, self.callbacks_, push);
        return step.dead ? step.dead->reason : error_code{};
    }

    void queue_ping(std::uint64_t seq, time_point now) {
        const sent_ping p{seq, detail::now_us(now)};
        sent[seq % sent_ring_size] = p;
        if (self.config_.app_heartbeat.enabled) {
            heartbeat_out.push_back(
                heartbeat_message{detail::encode_app_heartbeat(self.config_.app_heartbeat.key,
                                                               {true, p.seq, p.send_time_us}),
                                  seq});
            wake_writer();
        } else {
            pings_queued.push_back(sent_ping(p));
            wake_pinger();
        }
    }

    // True (and forgets the ping) when (seq, send time) is a ping of ours still remembered.
    bool take_sent(std::uint64_t seq, std::uint64_t send_time_us) {
        auto& slot = sent[seq % sent_ring_size];
        if (seq == 0 || slot.seq != seq || slot.send_time_us != send_time_us)
            return false;
        slot = sent_ping{};
        return true;
    }

    void step_monitor(monitor_step step, peer_state before, time_point now) {
        if (auto err = apply(step, before, now))
            stop(err);
    }

    // Any inbound traffic that is not an answer to one of our pings.
    void inbound(time_point now) {
        if (stop_reason || monitor.on_routine_inbound(now))
            return; // routine: only the idle deadline moved, later (the timer re-arms itself)
        const peer_state before = monitor.state();
        step_monitor(monitor.on_inbound(now), before, now);
    }

    void answered(std::uint64_t seq, time_point now) {
        if (stop_reason)
            return;
        const peer_state before = monitor.state();
        step_monitor(monitor.on_pong(seq, now), before, now);
    }

    // Beast's control callback: runs inside our pending read, on the stream's executor.
    void on_control(boost::beast::websocket::frame_type kind, boost::beast::string_view payload) {
        const time_point now = clock::now();
        switch (kind) {
        case boost::beast::websocket::frame_type::ping:
            // Beast writes the pong itself once this returns.
            detail::counter_add(self.shared_->pings_answered, 1);
            inbound(now);
            return;
        case boost::beast::websocket::frame_type::pong: {
            std::uint64_t seq = 0, t = 0;
            if (!self.config_.app_heartbeat.enabled &&
                detail::decode_ws_ping(std::string_view(payload.data(), payload.size()), seq, t) &&
                take_sent(seq, t))
                answered(seq, now);
            else
                inbound(now); // unsolicited or unrecognised: traffic, not an answer
            return;
        }
        case boost::beast::websocket::frame_type::close:
            return; // the pending read completes with websocket::error::closed
        }
    }

    void deliver(std::string&& payload, bool text) {
        detail::counter_add(self.shared_->messages_received, 1);
        websocket_message m{std::move(payload),
                            text ? websocket_message_kind::text : websocket_message_kind::binary,
                            next_in_seq++};
        self.shared_->delivered_seq.store(m.seq, std::memory_order_relaxed);
        if (pending_receive) {
            auto h = std::move(*pending_receive);
            pending_receive.reset();
            complete_from_run_loop(std::move(h), pending_receive_direct, error_code{},
                                   std::move(m));
            return;
        }
        inbox_bytes += m.payload.size();
        inbox.push_back(std::move(m));
        self.shared_->queued_receive_bytes.store(inbox_bytes, std::memory_order_relaxed);
    }

    // A whole message arrived: an application-level heartbeat, or the application's.
    void on_message(std::string&& payload, bool text, time_point now) {
        const auto& app = self.config_.app_heartbeat;
        if (app.enabled && text && payload.size() <= 160) {
            if (auto hb = detail::parse_app_heartbeat(app.key, payload)) {
                if (take_sent(hb->seq, hb->send_time_us)) {
                    answered(hb->seq, now); // our ping, echoed or answered
                } else if (hb->ping && !stop_reason) {
                    detail::counter_add(self.shared_->pings_answered, 1);
                    heartbeat_out.push_back(heartbeat_message{
                        detail::encode_app_heartbeat(app.key, {false, hb->seq, hb->send_time_us}),
                        0});
                    wake_writer();
                }
                return;
            }
        }
        deliver(std::move(payload), text);
    }

    // --- the loops -------------------------------------------------------------------------

    // Starts the next read, unless the receive buffer is full (back-pressure: stop reading
    // until the application catches up; start_receive or stop() resumes the reader).
    void pump_reader() {
        if (inbox_bytes > self.config_.receive_buffer_limit && !stop_reason) {
            reader_paused = true;
            return;
        }
        reader_paused = false;
        if (assembled == 0 && spare_payload.capacity() > assembling.capacity()) {
            assembling = std::move(spare_payload);
            spare_payload.clear();
        }
        // Room for what Beast says is left of the frame (bounded), and never less than the
        // buffer already holds: growing zero-fills, shrinking would give capacity away.
        const std::size_t room =
            std::clamp<std::size_t>(ws.read_size_hint(read_room_min), read_room_min, read_room_max);
        const std::size_t size = std::max(assembled + room, assembling.capacity());
        if (assembling.size() != size)
            assembling.resize(size);
        ws.async_read_some(boost::asio::buffer(assembling.data() + assembled, size - assembled),
                           on_read_done());
    }

    // Through the scheduler, like wake_writer().
    void resume_reader() {
        if (!reader_paused || reader_resume_posted)
            return;
        reader_resume_posted = true;
        ++running; // the session must outlive the posted resumption
        boost::asio::post(exec, [this] {
            reader_resume_posted = false;
            --running;
            if (reader_paused)
                pump_reader();
            notify();
        });
    }

    void on_read(error_code ec, std::size_t n) {
        if (ec) {
            if (!stop_reason)
                stop(detail::map_websocket_error(ec));
            --running;
            notify();
            return;
        }
        const time_point now = clock::now();
        detail::counter_add(self.shared_->bytes_received, n);
        detail::counter_add(self.shared_->frames_received, 1);
        inbound(now);
        assembled += n;
        if (ws.is_message_done()) {
            assembling.resize(assembled); // shorter: only the length changes
            assembled = 0;
            // The message's buffer moves on to the application; a heartbeat message, not moved,
            // leaves its buffer for the next one.
            on_message(std::move(assembling), ws.got_text(), now);
            assembling.clear();
        }
        pump_reader();
    }

    void write_failed(error_code ec) {
        if (!stop_reason)
            stop(detail::map_websocket_error(ec));
    }

    // The writer ends: no write of its own will start again.
    void writer_finished() {
        writer_done = true;
        --running;
        notify();
    }

    // Data messages, one frame (async_write_some) at a time; application-level heartbeats at
    // message boundaries. Starts the next write when there is something to write and no write
    // is in flight; on_written() calls it again when a write has completed.
    void pump_writer() {
        if (!writer_started || writer_done || write_in_flight)
            return;
        const bool flushing = closing && stop_reason == error::session_closed;
        if (stop_reason && !flushing) {
            writer_finished();
            return;
        }
        const bool mid_message = !send_queue.empty() && send_queue.front().offset > 0;
        if (!mid_message && !heartbeat_out.empty()) {
            heartbeat_writing = std::move(heartbeat_out.front());
            heartbeat_out.pop_front();
            ws.text(true);
            write_in_flight = true;
            ws.async_write(boost::asio::buffer(heartbeat_writing.text), on_write_done(true));
            return;
        }
        while (!send_queue.empty() && send_queue.front().withdrawn)
            send_queue.pop_front();
        if (send_queue.empty()) {
            if (stop_reason)
                writer_finished(); // closing and everything flushed
            return;
        }
        auto& m = send_queue.front();
        if (m.offset == 0)
            ws.text(m.text); // the opcode of the message's first frame
        const std::size_t remaining = m.payload.size() - m.offset;
        const std::size_t chunk = std::min(remaining, self.config_.fragment_size);
        writing_id = m.id;
        writing_chunk = chunk;
        write_in_flight = true;
        const char* bytes = m.payload.data() + m.offset;
        if (detail::bytes_inside(m.payload)) {
            std::memcpy(short_payload_stage.data(), bytes, chunk);
            bytes = short_payload_stage.data();
        }
        ws.async_write_some(chunk == remaining, boost::asio::buffer(bytes, chunk),
                            on_write_done(false));
    }

    void on_written(error_code ec, bool heartbeat) {
        write_in_flight = false;
        writing_id = 0;
        notify();
        if (ec) {
            write_failed(ec);
            writer_finished();
            return;
        }
        detail::counter_add(self.shared_->frames_sent, 1);
        if (heartbeat) {
            if (heartbeat_writing.ping_seq != 0 && !stop_reason) {
                monitor.on_ping_written(heartbeat_writing.ping_seq, clock::now());
                rearm_if_earlier();
            }
            pump_writer();
            return;
        }
        auto& written = send_queue.front(); // still the same message: only the writer pops
        const std::size_t chunk = writing_chunk;
        written.offset += chunk;
        detail::counter_add(self.shared_->bytes_sent, chunk);
        if (written.offset == written.payload.size()) {
            send_box h(std::move(written.handler));
            const bool direct = written.direct;
            detail::counter_sub(self.shared_->queued_send_bytes, written.payload.size());
            detail::counter_add(self.shared_->messages_sent, 1);
            if (written.payload.capacity() > spare_payload.capacity() &&
                written.payload.capacity() <= spare_capacity_max) {
                spare_payload = std::move(written.payload);
                spare_payload.clear();
            }
            send_queue.pop_front();
            // The handler may send again (pumping the writer itself); pump afterwards too, for
            // whatever else is queued.
            complete_from_run_loop(std::move(h), direct, error_code{});
        }
        pump_writer();
    }

    // Control pings, one async_ping at a time (Beast allows one), driven by their completions.
    // async_ping completes when the ping frame has been written: that is when its pong deadline
    // starts. The pinger counts in `running` until pinger_finished().
    void pump_pinger() {
        if (pinger_done || ping_in_flight)
            return;
        if (stop_reason)
            return pinger_finished();
        if (pings_queued.empty()) {
            pinger_idle = true;
            return;
        }
        const sent_ping p = pings_queued.front();
        pings_queued.pop_front();
        const std::string payload = detail::encode_ws_ping(p.seq, p.send_time_us);
        ping_in_flight = true;
        ws.async_ping(boost::beast::websocket::ping_data(payload.data(), payload.size()),
                      on_ping_done(p.seq));
    }

    void on_pinged(error_code ec, std::uint64_t seq) {
        ping_in_flight = false;
        notify();
        if (ec) {
            write_failed(ec);
            return pinger_finished();
        }
        if (!stop_reason) {
            monitor.on_ping_written(seq, clock::now());
            rearm_if_earlier();
        }
        pump_pinger();
    }

    void pinger_finished() {
        pinger_done = true;
        --running;
        notify();
    }

    boost::asio::awaitable<void> heartbeat_loop() {
        for (;;) {
            if (stop_reason)
                co_return;
            const time_point deadline = monitor.next_deadline();
            heartbeat_timer.expires_at(deadline);
            armed_deadline = deadline;
            error_code ec;
            co_await heartbeat_timer.async_wait(
                boost::asio::redirect_error(boost::asio::use_awaitable, ec));
            if (stop_reason)
                co_return;
            if (ec)
                continue; // re-armed on purpose (an earlier deadline)
            const time_point now = clock::now();
            const peer_state before = monitor.state();
            step_monitor(monitor.on_timer(now), before, now);
        }
    }

    // Sleeps until `done()` or `deadline`; returns done().
    template <class Pred>
    boost::asio::awaitable<bool> wait_for(Pred done, time_point deadline) {
        while (!done() && clock::now() < deadline) {
            if (!notify_timer)
                notify_timer = std::make_unique<timer_type>(exec);
            notify_timer->expires_at(deadline);
            error_code ignored;
            notify_waiting = true;
            co_await notify_timer->async_wait(
                boost::asio::redirect_error(boost::asio::use_awaitable, ignored));
            notify_waiting = false;
        }
        co_return done();
    }

    boost::asio::awaitable<error_code> run() {
        namespace websocket = boost::beast::websocket;
        websocket::stream_base::timeout opt{};
        opt.handshake_timeout = websocket::stream_base::none(); // bounds Beast's close handshake
        opt.idle_timeout = websocket::stream_base::none();      // the monitor decides, not Beast
        opt.keep_alive_pings = false;
        ws.set_option(opt);
        ws.auto_fragment(false); // one async_write_some = one frame
        ws.read_message_max(self.config_.max_message_size);
        ws.control_callback([this](websocket::frame_type kind, boost::beast::string_view payload) {
            on_control(kind, payload);
        });
        {
            session_config keepalive;
            keepalive.heartbeat = self.config_.heartbeat;
            keepalive.tcp_keepalive = self.config_.tcp_keepalive;
            detail::apply_tcp_keepalive(socket(), keepalive);
        }
        const time_point start = clock::now();
        const peer_state before = monitor.state();
        step_monitor(monitor.start(start), before, start);
        publish_monitor();

        ++running; // the reader, until its read fails (the connection is torn down)
        pump_reader();
        ++running; // the writer, until writer_finished()
        writer_started = true;
        wake_writer();
        ++running; // the pinger, until pinger_finished()
        pump_pinger();
        co_await heartbeat_loop();

        const error_code reason = stop_reason;
        co_await farewell(reason);
        // Every loop returns once the connection is torn down.
        co_await wait_for([this] { return running == 0; }, time_point::max());
        ws.control_callback();
        co_return reason;
    }

    // Best effort, bounded by close_timeout: tell the peer why we end, then tear down.
    boost::asio::awaitable<void> farewell(error_code reason) {
        namespace websocket = boost::beast::websocket;
        const time_point deadline = clock::now() + self.config_.close_timeout;
        const bool say_why = reason.category() == heartbeat_category() &&
                             reason != error::peer_closed && ws.is_open();
        if (say_why) {
            // A frame being written cannot be cut without failing the stream: let the writer
            // (flushing after close()) and the pinger finish. If they cannot within
            // close_timeout, the transport no longer accepts writes: no close frame.
            const bool idle =
                co_await wait_for([this] { return writer_done && pinger_done; }, deadline);
            if (idle && ws.is_open()) {
                const bool normal = reason == error::session_closed;
                websocket::close_reason cr(normal ? websocket::close_code::normal
                                                  : websocket::close_code::internal_error,
                                           normal ? boost::beast::string_view{}
                                                  : boost::beast::string_view(error_name(reason)));
                ++running;
                ws.async_close(cr, [this](error_code) {
                    --running;
                    close_done = true;
                    notify();
                });
                if (normal) {
                    // Wait for the peer's close frame (the closing handshake).
                    co_await wait_for([this] { return close_done; }, deadline);
                } else {
                    // A peer we gave up on will not answer: wait only until the close frame
                    // has left. The socket's write-readiness wait queues behind the write that
                    // async_close just started, so it completes once that write has.
                    ++running;
                    socket().async_wait(boost::asio::socket_base::wait_write, [this](error_code) {
                        --running;
                        close_flushed = true;
                        notify();
                    });
                    co_await wait_for([this] { return close_flushed || close_done; }, deadline);
                }
            }
        }
        error_code ignored;
        socket().shutdown(boost::asio::socket_base::shutdown_both, ignored);
        socket().close(ignored);
    }

    void finish(error_code reason) {
        ended = true;
        end_reason = reason;
        for (std::size_t i = 0; i < send_queue.size(); ++i) {
            auto& m = send_queue[i];
            if (m.withdrawn)
                continue;
            detail::counter_sub(self.shared_->queued_send_bytes, m.payload.size());
            detail::complete_later(std::move(m.handler), exec, reason);
        }
        send_queue.clear();
        if (pending_receive && inbox.empty()) {
            auto h = std::move(*pending_receive);
            pending_receive.reset();
            detail::complete_later(std::move(h), exec, reason, websocket_message{});
        }
        {
            std::lock_guard lock(self.shared_->mutex);
            if (monitor.state() != peer_state::dead)
                self.shared_->state = monitor.state();
        }
        session_event e;
        e.kind = session_event_kind::ended;
        e.reason = reason;
        push_event(std::move(e));
    }
};

template <class NextLayer>
websocket_session<NextLayer>::websocket_session(stream_type ws, websocket_session_config config,
                                                session_callbacks callbacks)
    : ws_(std::make_unique<stream_type>(std::move(ws))), executor_(ws_->get_executor()),
      config_(std::move(config)), callbacks_(std::move(callbacks)),
      shared_(std::make_unique<detail::session_shared_stats>()) {
    if (!validate(config_))
        loops_ = std::make_unique<run_loops>(*this);
}

template <class NextLayer>
websocket_session<NextLayer>::~websocket_session() = default;

template <class NextLayer>
void websocket_session<NextLayer>::start_run(run_handler handler) {
    boost::asio::dispatch(executor_, [this, h = std::move(handler)]() mutable {
        if (!loops_) { // the config was invalid
            detail::complete_later(std::move(h), executor_,
                                   boost::system::error_code(error::invalid_config));
            return;
        }
        if (loops_->run_started) {
            detail::complete_later(std::move(h), executor_,
                                   boost::system::error_code(boost::asio::error::already_started));
            return;
        }
        loops_->run_started = true;
        auto slot = boost::asio::get_associated_cancellation_slot(h);
        if (slot.is_connected())
            slot.assign([this](boost::asio::cancellation_type) { cancel(); });
        loops_->run_completion.emplace(std::move(h));
        boost::asio::co_spawn(executor_, loops_->run(),
                              [this](std::exception_ptr ep, boost::system::error_code reason) {
                                  if (ep)
                                      reason = detail::error_of(ep);
                                  loops_->finish(reason);
                                  auto completion = std::move(*loops_->run_completion);
                                  loops_->run_completion.reset();
                                  detail::complete_later(std::move(completion), executor_, reason);
                              });
    });
}

template <class NextLayer>
void websocket_session<NextLayer>::start_send(std::string&& message, websocket_message_kind kind,
                                              send_box&& handler, bool direct) {
    // At once when already on our executor (what dispatch would do, without moving the
    // message and handler into a function object and through a type-erased executor).
    if (detail::running_in_this_thread(executor_)) {
        send_here(std::move(message), kind, std::move(handler), direct);
        return;
    }
    boost::asio::dispatch(
        executor_, [this, kind, direct, m = std::move(message), h = std::move(handler)]() mutable {
            send_here(std::move(m), kind, std::move(h), direct);
        });
}

template <class NextLayer>
void websocket_session<NextLayer>::send_here(std::string&& m, websocket_message_kind kind,
                                             send_box&& h, bool direct) {
    if (!loops_) {
        detail::complete_later(std::move(h), executor_,
                               boost::system::error_code(error::invalid_config));
        return;
    }
    auto& l = *loops_;
    if (auto refused = detail::send_refusal(l.ended, l.end_reason, l.stop_reason, l.closing)) {
        detail::complete_later(std::move(h), executor_, refused);
        return;
    }
    const std::uint64_t id = l.next_message_id++;
    auto slot = h.cancellation_slot();
    if (slot.is_connected()) {
        slot.assign([this, id](boost::asio::cancellation_type) {
            detail::withdraw_queued(
                loops_->send_queue, id,
                [this](const auto& q, std::size_t) { return loops_->writing_id == q.id; },
                shared_->queued_send_bytes, executor_);
        });
    }
    detail::counter_add(shared_->queued_send_bytes, m.size());
    // Constructed in place (Boost 1.81's any_completion_handler move *assignment* recurses;
    // and a move of the message less).
    l.send_queue.emplace_back(std::move(m), std::size_t{0}, std::move(h), id, false,
                              kind == websocket_message_kind::text, direct);
    l.wake_writer_now();
}

template <class NextLayer>
void websocket_session<NextLayer>::start_receive(receive_box&& handler, bool direct) {
    if (detail::running_in_this_thread(executor_)) {
        receive_here(std::move(handler), direct);
        return;
    }
    boost::asio::dispatch(executor_, [this, direct, h = std::move(handler)]() mutable {
        receive_here(std::move(h), direct);
    });
}

template <class NextLayer>
void websocket_session<NextLayer>::receive_here(receive_box&& h, bool direct) {
    if (!loops_) {
        detail::complete_later(std::move(h), executor_,
                               boost::system::error_code(error::invalid_config),
                               websocket_message{});
        return;
    }
    auto& l = *loops_;
    if (l.pending_receive) {
        detail::complete_later(std::move(h), executor_,
                               boost::system::error_code(boost::asio::error::already_started),
                               websocket_message{});
        return;
    }
    if (!l.inbox.empty()) {
        websocket_message m = std::move(l.inbox.front());
        l.inbox.pop_front();
        l.inbox_bytes -= m.payload.size();
        shared_->queued_receive_bytes.store(l.inbox_bytes, std::memory_order_relaxed);
        if (l.reader_paused && l.inbox_bytes <= config_.receive_buffer_limit)
            l.resume_reader();
        detail::complete_later(std::move(h), executor_, boost::system::error_code{}, std::move(m));
        return;
    }
    if (l.ended) {
        detail::complete_later(std::move(h), executor_, l.end_reason, websocket_message{});
        return;
    }
    l.pending_receive_direct = direct;
    detail::park_cancellable(l.pending_receive, std::move(h), executor_, websocket_message{},
                             [this] { return &loops_->pending_receive; });
}

template <class NextLayer>
void websocket_session<NextLayer>::start_wait_event(event_handler handler) {
    boost::asio::dispatch(executor_, [this, h = std::move(handler)]() mutable {
        if (!loops_) {
            detail::complete_later(std::move(h), executor_,
                                   boost::system::error_code(error::invalid_config),
                                   session_event{});
            return;
        }
        auto& l = *loops_;
        if (l.pending_event) {
            detail::complete_later(std::move(h), executor_,
                                   boost::system::error_code(boost::asio::error::already_started),
                                   session_event{});
            return;
        }
        if (!l.events.empty()) {
            session_event e = l.events.pop_front();
            if (e.kind == session_event_kind::ended)
                l.ended_event_taken = true;
            detail::complete_later(std::move(h), executor_, boost::system::error_code{},
                                   std::move(e));
            return;
        }
        if (l.ended && l.ended_event_taken) {
            detail::complete_later(std::move(h), executor_, l.end_reason, session_event{});
            return;
        }
        detail::park_cancellable(l.pending_event, std::move(h), executor_, session_event{},
                                 [this] { return &loops_->pending_event; });
    });
}

template <class NextLayer>
void websocket_session<NextLayer>::close() {
    boost::asio::dispatch(executor_, [this] {
        if (!loops_ || loops_->ended || loops_->closing || loops_->stop_reason)
            return;
        loops_->closing = true;
        loops_->stop(error::session_closed);
    });
}

template <class NextLayer>
void websocket_session<NextLayer>::cancel() {
    boost::asio::dispatch(executor_, [this] {
        if (!loops_ || loops_->ended)
            return;
        // Not a heartbeat reason: farewell tears the connection down without a close frame.
        loops_->stop(boost::asio::error::operation_aborted);
    });
}

template <class NextLayer>
session_stats websocket_session<NextLayer>::stats() const {
    session_stats s;
    const auto& sh = *shared_;
    s.bytes_sent = sh.bytes_sent.load(std::memory_order_relaxed);
    s.bytes_received = sh.bytes_received.load(std::memory_order_relaxed);
    s.frames_sent = sh.frames_sent.load(std::memory_order_relaxed);
    s.frames_received = sh.frames_received.load(std::memory_order_relaxed);
    s.messages_sent = sh.messages_sent.load(std::memory_order_relaxed);
    s.messages_received = sh.messages_received.load(std::memory_order_relaxed);
    s.delivered_seq = sh.delivered_seq.load(std::memory_order_relaxed);
    s.pings_answered = sh.pings_answered.load(std::memory_order_relaxed);
    s.events_dropped = sh.events_dropped.load(std::memory_order_relaxed);
    s.queued_send_bytes = sh.queued_send_bytes.load(std::memory_order_relaxed);
    s.queued_receive_bytes = sh.queued_receive_bytes.load(std::memory_order_relaxed);
    std::lock_guard lock(sh.mutex);
    s.state = sh.state;
    s.missed = sh.missed;
    s.interval = sh.interval;
    s.pong_timeout = sh.pong_timeout;
    s.rtt = sh.rtt;
    s.heartbeat = sh.heartbeat;
    return s;
}

} // namespace heartbeat
