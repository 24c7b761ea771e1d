#pragma once
// The session core: everything a session does whatever its protocol, written once. It owns the
// pending operations (run, send, receive, wait_event), the inbox and the send queue with
// back-pressure, the stats, the events, the heartbeat monitor and the one timer that drives it
// (the handshake deadline until the link reports the handshake done), and the ending: the stop
// reason, and the completion of every pending operation once the link has said goodbye.
//
// A link (stream_link, websocket_link) does the I/O: it starts its reader and writer, writes
// what the core queues, tells the core what arrived (traffic, pongs, messages) and what left
// (pings written, messages written), and calls end_run() once its loops are done and the
// goodbye said. The core calls the link's start(), on_stop(), abort_io(), wake_writer(),
// queue_ping() and resume_reader(); see stream_link.hpp for the full contract.
//
// Everything here runs on the session's executor. No coroutine frame lives while a session runs:
// the heartbeat is a timer on plain callbacks.
#include <heartbeat/detail/completion.hpp>
#include <heartbeat/detail/operation_cache.hpp>
#include <heartbeat/detail/ring_queue.hpp>
#include <heartbeat/session/event_queue.hpp>
#include <heartbeat/session/monitor_step_report.hpp>
#include <heartbeat/session/session.hpp>
#include <heartbeat/session/session_observer.hpp>
#include <heartbeat/session/session_shared_stats.hpp>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace heartbeat::detail {

template <class Link>
struct session_core {
    using session_type = session<Link>;
    using executor_type = typename session_type::executor_type;
    using message_type = typename session_type::message_type;
    using send_box = typename session_type::send_box;
    using receive_box = typename session_type::receive_box;
    using event_handler = typename session_type::event_handler;
    using run_handler = typename session_type::run_handler;
    using timer_type = boost::asio::steady_timer;
    using error_code = boost::system::error_code;

    struct outgoing_message {
        std::string payload;
        std::size_t offset = 0; // bytes of payload already written
        send_box handler;
        std::uint64_t id = 0;
        bool withdrawn = false; // cancelled before it started; skipped by the writer
        bool direct = false;    // the handler runs on our executor: invoke it without dispatch
        [[no_unique_address]] typename Link::outgoing_tag tag{}; // what the link noted at send
    };

    explicit session_core(session_type& s)
        : self(s), heartbeat_timer(s.executor_), monitor(s.config_->heartbeat),
          observer(*s.config_, Link::protocol_label()), link(*this) {}

    session_type& self;
    timer_type heartbeat_timer; // armed for the monitor's next deadline (or the handshake's)
    heartbeat_monitor monitor;
    session_observer observer; // metrics series and log records (config.metrics, config.log)

    bool run_started = false;
    bool handshake_done = false;
    bool ended = false;
    bool closing = false;        // close() called: flush, then end with session_closed
    bool heartbeat_over = false; // the run is over, or the heartbeat ended it: no re-arming
    bool loops_aborting = false; // the heartbeat ended the session: reader and writer stop now
    bool pending_receive_direct = false; // the pending receive's handler runs on our executor
    bool ended_event_taken = false;
    time_point handshake_deadline = time_point::max();
    time_point armed_deadline = time_point::max();
    error_code stop_reason; // first reason to stop, set by whoever sees it first
    error_code end_reason;  // final, once the run has completed

    detail::ring_queue<outgoing_message> send_queue;
    std::uint64_t next_message_id = 1;
    // Heap buffers of sent small payloads, reused for the next inbound messages: an echo or a
    // request/response application then allocates no payload in steady state. Bounded.
    static constexpr std::size_t max_spare_payloads = 4;
    static constexpr std::size_t max_spare_capacity = 1024;
    std::vector<std::string> spare_payloads;

    detail::ring_queue<message_type> inbox;
    std::size_t inbox_bytes = 0;
    std::optional<receive_box> pending_receive;
    std::optional<event_handler> pending_event;
    detail::event_queue events;
    std::optional<run_handler> run_completion;

    Link link; // last: it may look at everything above while it is built

    const auto& config() const noexcept { return *self.config_; }
    // The session's executor (kept by the session: see there).
    const executor_type& exec() const noexcept { return self.executor_; }
    auto& stream() noexcept { return self.stream(); }
    const session_callbacks& callbacks() const noexcept { return self.callbacks_; }
    session_shared_stats& stats() noexcept { return *self.shared_; }

    // --- payload buffers ---------------------------------------------------------------------

    // Keeps the heap buffer of a payload we are done with (sent, or a dropped duplicate).
    void recycle(std::string&& payload) {
        if (payload.capacity() <= std::string().capacity() ||
            payload.capacity() > max_spare_capacity || spare_payloads.size() >= max_spare_payloads)
            return;
        if (spare_payloads.capacity() == 0)
            spare_payloads.reserve(max_spare_payloads);
        payload.clear();
        spare_payloads.push_back(std::move(payload));
    }

    // A payload holding `bytes`, in a recycled buffer when one is big enough.
    std::string make_payload(std::span<const std::uint8_t> bytes) {
        const auto* data = reinterpret_cast<const char*>(bytes.data());
        if (!spare_payloads.empty() && bytes.size() <= spare_payloads.back().capacity()) {
            std::string s = std::move(spare_payloads.back());
            spare_payloads.pop_back();
            s.append(data, bytes.size()); // recycled buffers are empty
            return s;
        }
        return std::string(data, bytes.size());
    }

    // --- stopping ----------------------------------------------------------------------------

    void stop(error_code ec) {
        if (!stop_reason)
            stop_reason = ec;
        heartbeat_timer.cancel();
        link.on_stop(); // runs from cancellation handlers too: the link resumes nothing inline
    }

    // close() was called: the writer flushes queued messages while the reader and the heartbeat
    // keep running, so a peer that stops taking them is still declared dead.
    bool draining() const noexcept {
        return closing && stop_reason == error::session_closed && !loops_aborting;
    }

    // The heartbeat decided that the session ends (verdict, handshake timeout): the reader and
    // the writer stop at once, whatever they were waiting for.
    void end_loops(error_code reason) {
        heartbeat_over = true;
        loops_aborting = true;
        stop(reason);
        link.abort_io();
    }

    // --- events and the monitor --------------------------------------------------------------

    void push_event(session_event e) {
        if (pending_event) {
            auto h = std::move(*pending_event);
            pending_event.reset();
            if (e.kind == session_event_kind::ended)
                ended_event_taken = true;
            detail::complete_later(std::move(h), exec(), error_code{}, std::move(e));
            return;
        }
        if (const auto dropped = events.push(std::move(e), config().event_queue_capacity))
            detail::counter_add(stats().events_dropped, dropped);
    }

    void publish_monitor() {
        auto& shared = stats();
        std::lock_guard lock(shared.mutex);
        shared.state = monitor.state();
        shared.missed = monitor.missed();
        shared.interval = monitor.interval();
        shared.pong_timeout = monitor.pong_timeout();
        shared.rtt = snapshot(monitor.rtt());
        shared.heartbeat = monitor.counters();
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
        observer.after_step(step, before, monitor, now);
        rearm_if_earlier();
        if (step.send_ping)
            link.queue_ping(step.send_ping, now);
        const auto push = [this](session_event e) { push_event(std::move(e)); };
        detail::report_progress(step, before, monitor, callbacks(), push);
        if (step.rtt || step.state_changed || step.send_ping)
            publish_monitor();
        detail::report_verdict(step, callbacks(), push);
        return step.dead ? step.dead->reason : error_code{};
    }

    // Inbound traffic that is not an answer to one of our pings.
    error_code inbound(time_point now) {
        if (monitor.on_routine_inbound(now))
            return {}; // only the idle deadline moved, later: the timer re-arms itself
        const peer_state before = monitor.state();
        return apply(monitor.on_inbound(now), before, now);
    }

    // The answer to our ping `seq`.
    error_code pong(std::uint64_t seq, time_point now) {
        const peer_state before = monitor.state();
        return apply(monitor.on_pong(seq, now), before, now);
    }

    // A round trip the link measured without a ping (a timed ACK).
    error_code rtt_sample(duration sample, time_point now) {
        const peer_state before = monitor.state();
        return apply(monitor.on_rtt_sample(sample, now), before, now);
    }

    void ping_written(std::uint64_t seq, time_point now, time_point write_started) {
        monitor.on_ping_written(seq, now, write_started);
        rearm_if_earlier();
    }

    void report_interval(duration interval) {
        if (callbacks().on_interval)
            callbacks().on_interval(interval);
        session_event e;
        e.kind = session_event_kind::interval;
        e.value = interval;
        push_event(std::move(e));
    }

    // The peer asked for another interval (SLOW_DOWN).
    void set_interval(duration interval, time_point now) {
        monitor.set_interval(interval, now);
        heartbeat_timer.cancel(); // the deadline may have moved earlier: re-arm
        publish_monitor();
        report_interval(interval);
    }

    // The protocol's handshake is done: the monitor starts, at `interval` (negotiated, or the
    // configured one), and the timer switches from the handshake deadline to heartbeats.
    error_code on_handshake_done(time_point now, duration interval) {
        handshake_done = true;
        observer.opened();
        const peer_state before = monitor.state();
        if (interval != monitor.interval())
            monitor.set_interval(interval, now);
        auto err = apply(monitor.start(now), before, now);
        if (interval != config().heartbeat.interval)
            report_interval(interval);
        heartbeat_timer.cancel();
        publish_monitor();
        return err;
    }

    // --- the heartbeat timer -----------------------------------------------------------------

    // One timer armed for the monitor's next deadline (the handshake deadline until the link
    // reported the handshake done), driven by plain callbacks. Cancelling it re-arms it
    // (interval change, handshake done, an earlier deadline); it stops once the session stops,
    // or after the run.
    void arm_heartbeat() {
        const time_point deadline = handshake_done ? monitor.next_deadline() : handshake_deadline;
        heartbeat_timer.expires_at(deadline);
        armed_deadline = deadline;
        heartbeat_timer.async_wait(
            detail::with_operation_cache([this](error_code ec) { on_heartbeat(ec); }));
    }

    void on_heartbeat(error_code ec) {
        if (heartbeat_over || (stop_reason && !draining()))
            return;
        if (!ec) {
            const time_point now = clock::now();
            error_code err;
            if (!handshake_done) {
                if (now >= handshake_deadline)
                    err = error::handshake_timeout;
            } else {
                const peer_state before = monitor.state();
                err = detail::error_of_step(
                    [&] { return apply(monitor.on_timer(now), before, now); });
            }
            if (err) {
                end_loops(err);
                return;
            }
        }
        arm_heartbeat();
    }

    // --- messages (session_core_messages.hpp) --------------------------------------------------

    void deliver(message_type&& m);
    void deliver_and_hand_over(message_type&& m);
    bool inbox_full() const noexcept { return inbox_bytes > config().receive_buffer_limit; }
    bool take_received(message_type& out);
    void hand_over_received();
    void complete_receive(message_type&& m);
    void complete_front(std::size_t count, bool at_once = false);
    void complete_written_front();

    // --- the run -----------------------------------------------------------------------------

    void start() {
        observer.started();
        publish_monitor();
        const duration timeout = link.handshake_timeout();
        const time_point now = clock::now();
        handshake_deadline = timeout >= time_point::max() - now ? time_point::max() : now + timeout;
        link.start(); // may report the handshake done at once (WebSocket: upgraded already)
        arm_heartbeat();
    }

    // The link begins its goodbye: no verdict may cut it short any more.
    void stop_heartbeat() {
        heartbeat_over = true;
        heartbeat_timer.cancel(); // its callback must not outlive the run
    }

    // The link's loops are done and its goodbye said: the run completes with `reason`.
    void end_run(error_code reason) {
        stop_heartbeat();
        finish(reason);
        auto completion = std::move(*run_completion);
        run_completion.reset();
        detail::complete_later(std::move(completion), exec(), reason);
    }

    void finish(error_code reason) {
        ended = true;
        end_reason = reason;
        for (std::size_t i = 0; i < send_queue.size(); ++i) {
            auto& m = send_queue[i];
            if (m.withdrawn)
                continue;
            detail::counter_sub(stats().queued_send_bytes, m.payload.size());
            detail::complete_later(std::move(m.handler), exec(), reason);
        }
        send_queue.clear();
        if (pending_receive) {
            auto h = std::move(*pending_receive);
            pending_receive.reset();
            // A message parsed in the read that ended the session may not be handed over yet.
            if (message_type m; take_received(m))
                detail::complete_later(std::move(h), exec(), error_code{}, std::move(m));
            else
                detail::complete_later(std::move(h), exec(), reason, message_type{});
        }
        {
            std::lock_guard lock(stats().mutex);
            if (monitor.state() != peer_state::dead)
                stats().state = monitor.state();
        }
        observer.ended(reason, monitor.state());
        session_event e;
        e.kind = session_event_kind::ended;
        e.reason = reason;
        push_event(std::move(e));
    }
};

} // namespace heartbeat::detail

#include <heartbeat/session/session_core_messages.hpp>
