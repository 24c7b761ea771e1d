#pragma once
// Implementation of basic_session<Stream>. Included by src/session_instantiations.cpp for the
// stock streams; include it yourself (once, in one .cpp) to instantiate a session over your own
// stream type: `template class heartbeat::basic_session<my_stream>;`.
#include <heartbeat/detail/completion.hpp>
#include <heartbeat/detail/event_queue.hpp>
#include <heartbeat/detail/monitor_step_report.hpp>
#include <heartbeat/detail/operation_cache.hpp>
#include <heartbeat/detail/queued_send.hpp>
#include <heartbeat/detail/ring_queue.hpp>
#include <heartbeat/detail/running_in_this_thread.hpp>
#include <heartbeat/detail/single_writer_counter.hpp>
#include <heartbeat/frame_codec.hpp>
#include <heartbeat/resume_store.hpp>
#include <heartbeat/session.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>
#include <span>
#include <type_traits>
#include <variant>

#include <netinet/in.h>
#include <netinet/tcp.h>

namespace heartbeat {
namespace detail {

// Counters readable from any thread. Relaxed atomics for the per-frame counters; a mutex for
// the rarely-changing rest (state, RTT), updated only when they change.
struct session_shared_stats {
    std::atomic<std::uint64_t> bytes_sent{0}, bytes_received{0}, frames_sent{0}, frames_received{0},
        messages_sent{0}, messages_received{0}, duplicates_dropped{0}, delivered_seq{0},
        peer_acked{0}, pings_answered{0}, ping_strikes{0}, slow_downs_sent{0},
        slow_downs_received{0}, events_dropped{0};
    std::atomic<std::size_t> queued_send_bytes{0}, queued_receive_bytes{0};
    mutable std::mutex mutex;
    peer_state state = peer_state::connecting;
    unsigned missed = 0;
    duration interval{};
    duration pong_timeout{};
    rtt_snapshot rtt{};
    monitor_counters heartbeat{};
};

// True when the bytes of `s` live inside the string object (the short-string optimisation):
// then they move whenever the string does.
inline bool bytes_inside(const std::string& s) noexcept {
    const auto* object = reinterpret_cast<const char*>(&s);
    return s.data() >= object && s.data() < object + sizeof(std::string);
}

inline std::uint64_t now_us(time_point t) {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count());
}

inline std::uint32_t to_ms32(duration d) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    return static_cast<std::uint32_t>(std::clamp<long long>(ms, 0, 0xFFFFFFFFLL));
}

template <class Stream>
auto& lowest_layer_of(Stream& s) {
    if constexpr (requires { s.lowest_layer(); })
        return s.lowest_layer();
    else
        return s;
}

template <class Socket>
void apply_tcp_keepalive(Socket& socket, const session_config& config) {
    if constexpr (std::is_same_v<typename Socket::protocol_type, boost::asio::ip::tcp>) {
        if (!config.tcp_keepalive || !socket.is_open())
            return;
        const auto& hb = config.heartbeat;
        const auto secs = [](duration d) {
            return static_cast<int>(
                std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(d).count()));
        };
        boost::system::error_code ignored;
        socket.set_option(boost::asio::socket_base::keep_alive(true), ignored);
        const int fd = socket.native_handle();
        const int idle = secs(silence_budget(hb));
        const int intvl = secs(hb.pong_timeout);
        const int cnt = static_cast<int>(hb.max_missed);
        const unsigned user_timeout = static_cast<unsigned>(std::min<long long>(
            0x7FFFFFFF,
            std::chrono::duration_cast<std::chrono::milliseconds>(2 * silence_budget(hb)).count()));
        ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
        ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
        ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
        ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
        int one = 1; // heartbeats are latency-sensitive small writes
        ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    }
}

} // namespace detail

// All mutable state of a running session; touched only on the stream's executor.
template <class Stream>
struct basic_session<Stream>::run_loops {
    using executor_type = typename Stream::executor_type;
    using timer_type = boost::asio::steady_timer;

    explicit run_loops(basic_session& s)
        : self(s), exec(s.stream_.get_executor()), heartbeat_timer(exec),
          monitor(s.config_.heartbeat), next_out_seq(s.config_.first_seq) {}

    basic_session& self;
    // The stream's executor, kept: asking the stream returns a copy of a type-erased executor,
    // which costs more per completion than these 56 bytes per session.
    executor_type exec;
    timer_type heartbeat_timer; // armed for monitor.next_deadline()
    // Wakes the parked writer when a lone ACK is due. Created on first use: a session that
    // receives no application data never needs it, and most sessions mostly idle.
    std::unique_ptr<timer_type> wake_timer;
    heartbeat_monitor monitor;

    bool run_started = false;
    bool ended = false;
    // The writer (plain callbacks): idle with nothing to write, or one async_write in flight,
    // or done once the session stops.
    bool writer_idle = false;
    bool writer_done = false;
    boost::system::error_code writer_result;
    bool farewell_waits_for_writer = false; // the reader has ended: writer_finish() goes on
    std::vector<boost::asio::const_buffer> write_buffers;
    // Where the DATA frames of one write are encoded; allocated by the first DATA frame, since
    // a session that only heartbeats never writes one.
    static constexpr std::size_t max_batch_frames = 16;
    struct data_frame_staging {
        std::array<std::array<std::uint8_t, frame_header_size>, max_batch_frames> headers;
        // Header + payload of a short (SSO) payload, copied: its bytes live inside the string,
        // which moves when send_queue grows during the write.
        std::array<std::array<std::uint8_t, frame_header_size + sizeof(std::string)>,
                   max_batch_frames>
            short_frames;
        std::array<std::size_t, max_batch_frames> chunk_sizes; // per send_queue entry written
        std::vector<std::uint8_t> coalesced; // a small batch, copied into one buffer
    };
    std::unique_ptr<data_frame_staging> staging;
    std::size_t batch_entries = 0; // send_queue entries in the write in flight (staging holds them)
    static constexpr std::size_t coalesce_limit = 1024;
    std::size_t data_frames = 0;
    time_point write_started{};
    bool ack_timer_armed = false;
    bool heartbeat_over = false; // the run is over, or the heartbeat ended it: no more re-arming
    bool loops_aborting = false; // the heartbeat ended the session: reader and writer stop now
    time_point handshake_deadline = time_point::max();
    time_point ack_timer_due{};
    bool reader_paused = false;        // the receive buffer is full: no read outstanding
    bool reader_resume_posted = false; // a resume_reader() is pending
    bool reader_done = false;
    boost::system::error_code reader_result;
    bool closing = false; // close() called: flush then end with session_closed
    bool hello_received = false;
    bool stream_dirty = false; // a write was cut short: no further frame may follow it
    std::size_t in_write = 0;  // send_queue entries [0, in_write) are part of the current write
    time_point armed_deadline = time_point::max();
    boost::system::error_code stop_reason; // first reason to stop, set by whoever sees it first
    boost::system::error_code end_reason;  // final, once the run has completed

    // Outgoing.
    std::vector<std::uint8_t> control_out;     // encoded control frames waiting to be written
    std::vector<std::uint8_t> control_writing; // the batch being written
    std::vector<std::uint64_t> pings_queued;   // ping seqs in control_out
    std::vector<std::uint64_t> pings_writing;
    detail::ring_queue<outgoing_message> send_queue;
    std::uint64_t next_message_id = 1;
    std::uint64_t ack_sent = 0;
    std::uint64_t ack_due_for = ~std::uint64_t{0}; // ack_sent value when ack_due was set
    time_point ack_due{};
    // Heap buffers of sent small payloads, reused for the next inbound messages: an echo or a
    // request/response application then allocates no payload in steady state. Bounded.
    static constexpr std::size_t max_spare_payloads = 4;
    static constexpr std::size_t max_spare_capacity = 1024;
    std::vector<std::string> spare_payloads;

    // Inbound.
    std::vector<std::uint8_t> read_buffer;
    std::size_t read_begin = 0, read_end = 0;
    std::string assembling;
    detail::ring_queue<received_message> inbox;
    std::size_t inbox_bytes = 0;
    std::uint64_t delivered = 0;   // highest sequence number delivered (cumulative ACK value)
    std::uint64_t next_in_seq = 1; // sequence number of the next complete inbound message
    std::shared_ptr<resume_store::counter> resume_counter; // server side, resumable sessions
    std::uint64_t next_out_seq = 1;
    std::uint64_t peer_acked = 0;
    time_point last_peer_ping{};
    bool seen_peer_ping = false;
    unsigned ping_strikes = 0;

    std::optional<receive_box> pending_receive;
    bool pending_receive_direct = false;
    std::optional<event_handler> pending_event;
    detail::event_queue events;
    bool ended_event_taken = false;
    std::optional<run_handler> run_completion;

    // --- helpers ---------------------------------------------------------------------------

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

    void stop(boost::system::error_code ec) {
        if (!stop_reason)
            stop_reason = ec;
        wake_writer_later(); // stop() runs from cancellation handlers too: no inline resumption
        heartbeat_timer.cancel();
        resume_reader();
    }

    // close() was called: the writer flushes queued messages while the reader and the
    // heartbeat keep running, so a peer that stops taking them is still declared dead.
    bool draining() const noexcept {
        return closing && stop_reason == error::session_closed && !loops_aborting;
    }

    // Starts the idle writer at once, on the caller's stack (we always run on the session's
    // executor): the frame the caller just queued is written before the caller returns, with no
    // trip through the scheduler. Callers are async_send's initiation, the reader, the heartbeat
    // and the ACK timer. Never completes anything: a write only starts here.
    void wake_writer() {
        if (!writer_idle)
            return;
        writer_idle = false;
        // With anything else to write the ACK rides on it (write_next): no clock read then.
        if (delivered != ack_sent && control_out.empty() && send_queue.empty() &&
            clock::now() >= ack_due) {
            ack_sent = delivered; // nothing came to ride on: the ACK goes alone
            encode_append(ack_frame{delivered}, control_out);
        }
        write_next();
    }

    // As wake_writer, from stop(), which also runs inside cancellation handlers.
    void wake_writer_later() {
        if (!writer_idle)
            return;
        writer_idle = false;
        boost::asio::post(exec, [this] { write_next(); });
    }

    // A pending ACK waits at most ack_delay for a write to ride on; then this wakes the writer.
    void arm_ack_timer() {
        if (ack_timer_armed && ack_timer_due <= ack_due)
            return;
        ack_timer_armed = true;
        ack_timer_due = ack_due;
        if (!wake_timer)
            wake_timer = std::make_unique<timer_type>(exec);
        wake_timer->expires_at(ack_due);
        wake_timer->async_wait([this](boost::system::error_code ec) {
            if (ec)
                return; // re-armed, or the run ended (run() cancels it before it completes)
            ack_timer_armed = false;
            wake_writer();
        });
    }

    void queue_control(const frame& f) {
        encode_append(f, control_out);
        wake_writer();
    }

    void push_event(session_event e) {
        if (pending_event) {
            auto h = std::move(*pending_event);
            pending_event.reset();
            if (e.kind == session_event_kind::ended)
                ended_event_taken = true;
            detail::complete_later(std::move(h), exec, boost::system::error_code{}, std::move(e));
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
    boost::system::error_code apply(const monitor_step& step, peer_state before, time_point now) {
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
        return step.dead ? step.dead->reason : boost::system::error_code{};
    }

    void queue_ping(std::uint64_t seq, time_point now) {
        // Listed first: queue_control may resume the writer at once, and it must know which
        // pings its batch carries to start their pong deadlines from the write.
        pings_queued.push_back(seq);
        queue_control(ping_frame{seq, detail::now_us(now)});
    }

    void set_interval(duration interval, time_point now) {
        monitor.set_interval(interval, now);
        heartbeat_timer.cancel(); // the deadline may have moved earlier: re-arm
        publish_monitor();
        if (self.callbacks_.on_interval)
            self.callbacks_.on_interval(interval);
        session_event e;
        e.kind = session_event_kind::interval;
        e.value = interval;
        push_event(std::move(e));
    }

    // A complete inbound message. It is queued; it counts as delivered (claimed in the resume
    // store, covered by our ACKs) only once the application takes it (take_received): a session
    // whose application stops taking messages -- a frozen or dying process -- must not
    // acknowledge them, or the sender would drop from its resend buffer what no application got.
    void deliver(std::string payload) {
        const std::uint64_t seq = next_in_seq++;
        if (seq <= delivered) {
            // Re-sent after a reconnect, and delivered before it (by this logical session).
            detail::counter_add(self.shared_->duplicates_dropped, 1);
            return;
        }
        inbox_bytes += payload.size();
        inbox.emplace_back(seq, std::move(payload));
        self.shared_->queued_receive_bytes.store(inbox_bytes, std::memory_order_relaxed);
    }

    // Takes the oldest queued message for the application, skipping those that another
    // connection of this logical session (servers sharing a resume store, or a stale connection
    // thawed after a freeze) has already handed to its application. False when none is left.
    bool take_received(received_message& out) {
        bool taken = false;
        while (!taken && !inbox.empty()) {
            received_message& m = inbox.front();
            inbox_bytes -= m.payload.size();
            bool duplicate = false;
            if (resume_counter) {
                std::uint64_t seen = resume_counter->load(std::memory_order_relaxed);
                while (seen < m.seq && !resume_counter->compare_exchange_weak(
                                           seen, m.seq, std::memory_order_relaxed))
                    ;
                duplicate = seen >= m.seq;
            }
            if (duplicate) {
                detail::counter_add(self.shared_->duplicates_dropped, 1);
                recycle(std::move(m.payload));
                inbox.pop_front();
                continue;
            }
            delivered = m.seq;
            self.shared_->delivered_seq.store(m.seq, std::memory_order_relaxed);
            detail::counter_add(self.shared_->messages_received, 1);
            out.seq = m.seq;
            out.payload = std::move(m.payload);
            inbox.pop_front();
            taken = true;
        }
        self.shared_->queued_receive_bytes.store(inbox_bytes, std::memory_order_relaxed);
        return taken;
    }

    // Acknowledge in bulk: one ACK per 64 messages taken; otherwise the writer piggybacks it on
    // the next write, or sends it alone after ack_delay.
    void schedule_ack(time_point now) {
        if (!hello_received || ended)
            return;
        if (delivered - ack_sent >= 64) {
            ack_sent = delivered;
            queue_control(ack_frame{delivered});
        } else if (delivered != ack_sent && ack_due_for != ack_sent) {
            ack_due_for = ack_sent;
            ack_due = now + self.config_.ack_delay;
            wake_writer();
        }
    }

    // Completes a pending receive with the oldest queued message. Called by the reader after
    // a read completed, so the handler may run at once (see complete_now).
    void hand_over_received() {
        if (!pending_receive)
            return;
        received_message m;
        if (!take_received(m))
            return;
        auto h = std::move(*pending_receive);
        pending_receive.reset();
        if (pending_receive_direct)
            detail::invoke_now(std::move(h), exec, boost::system::error_code{}, std::move(m));
        else
            detail::complete_now(std::move(h), boost::system::error_code{}, std::move(m));
    }

    // --- frame handling --------------------------------------------------------------------

    boost::system::error_code on_hello(const hello_frame& h, time_point now) {
        if (hello_received)
            return error::malformed_frame;
        if (h.version != protocol_version)
            return error::unsupported_version;
        if (h.first_seq == 0)
            return error::malformed_frame;
        hello_received = true;
        next_in_seq = h.first_seq;
        delivered = h.first_seq - 1;
        if (self.config_.resume && h.session_id != 0) {
            resume_counter = self.config_.resume->attach(h.session_id);
            delivered = std::max(delivered, resume_counter->load(std::memory_order_relaxed));
            // Tell the resuming peer at once what it need not wait for.
            ack_sent = delivered;
            queue_control(ack_frame{delivered});
        } else {
            ack_sent = delivered;
        }
        self.shared_->delivered_seq.store(delivered, std::memory_order_relaxed);
        const auto& cfg = self.config_;
        duration interval = cfg.heartbeat.interval;
        const duration peer_min = std::chrono::milliseconds(h.min_interval_ms);
        const duration peer_max = std::chrono::milliseconds(h.max_interval_ms);
        if (h.max_interval_ms != 0 && h.min_interval_ms > h.max_interval_ms)
            return error::incompatible_interval;
        interval = std::max(interval, peer_min);
        if (h.max_interval_ms != 0 && interval > peer_max) {
            // We may ping more often than we wanted, but not below the peer's floor.
            interval = std::max(peer_max, peer_min);
        }
        const peer_state before = monitor.state();
        if (interval != monitor.interval())
            monitor.set_interval(interval, now);
        auto err = apply(monitor.start(now), before, now);
        if (interval != cfg.heartbeat.interval) {
            if (self.callbacks_.on_interval)
                self.callbacks_.on_interval(interval);
            session_event e;
            e.kind = session_event_kind::interval;
            e.value = interval;
            push_event(std::move(e));
        }
        heartbeat_timer.cancel(); // switch from the handshake deadline to heartbeat deadlines
        publish_monitor();
        return err;
    }

    boost::system::error_code on_ping(const ping_frame& p, time_point now) {
        queue_control(pong_frame{p.seq, p.send_time_us});
        detail::counter_add(self.shared_->pings_answered, 1);
        const auto min = self.config_.min_peer_ping_interval;
        if (min > duration::zero()) {
            if (seen_peer_ping && now - last_peer_ping < min * 4 / 5) {
                ++ping_strikes;
                detail::counter_add(self.shared_->ping_strikes, 1);
                if (ping_strikes > self.config_.max_ping_strikes)
                    return error::too_many_pings;
                queue_control(slow_down_frame{detail::to_ms32(min)});
                detail::counter_add(self.shared_->slow_downs_sent, 1);
            } else if (seen_peer_ping) {
                ping_strikes = 0;
            }
            last_peer_ping = now;
            seen_peer_ping = true;
        }
        return {};
    }

    boost::system::error_code on_data(std::span<const std::uint8_t> payload, bool fin) {
        if (assembling.size() + payload.size() > self.config_.max_message_size)
            return error::message_too_large;
        if (fin && assembling.empty()) {
            deliver(make_payload(payload));
        } else {
            assembling.append(reinterpret_cast<const char*>(payload.data()), payload.size());
            if (fin) {
                deliver(std::move(assembling));
                assembling = std::string();
            }
        }
        return {};
    }

    // Returns an error when the session must end.
    boost::system::error_code on_frame(const frame& f, time_point now, bool& saw_inbound) {
        detail::counter_add(self.shared_->frames_received, 1);
        if (!hello_received && !std::holds_alternative<hello_frame>(f))
            return error::data_before_hello;
        switch (type_of(f)) {
        case frame_type::hello:
            return on_hello(std::get<hello_frame>(f), now);
        case frame_type::data: {
            saw_inbound = true;
            const auto& d = std::get<data_frame>(f);
            return on_data(d.payload, d.fin);
        }
        case frame_type::ping:
            saw_inbound = true;
            return on_ping(std::get<ping_frame>(f), now);
        case frame_type::pong: {
            const auto& p = std::get<pong_frame>(f);
            const peer_state before = monitor.state();
            return apply(monitor.on_pong(p.seq, now), before, now);
        }
        case frame_type::ack: {
            saw_inbound = true;
            const auto delivered_by_peer = std::get<ack_frame>(f).delivered;
            if (delivered_by_peer > peer_acked) {
                peer_acked = delivered_by_peer;
                self.shared_->peer_acked.store(peer_acked, std::memory_order_relaxed);
                if (self.callbacks_.on_ack)
                    self.callbacks_.on_ack(peer_acked);
            }
            return {};
        }
        case frame_type::slow_down: {
            saw_inbound = true;
            detail::counter_add(self.shared_->slow_downs_received, 1);
            const duration min =
                std::chrono::milliseconds(std::get<slow_down_frame>(f).min_interval_ms);
            if (min > monitor.interval())
                set_interval(min, now);
            return {};
        }
        case frame_type::close:
            return error::peer_closed;
        }
        return error::unknown_frame_type;
    }

    // --- the three loops -------------------------------------------------------------------

    // The reader, driven by the completions of its own reads (no coroutine frame per session):
    // one read outstanding, or paused while the receive buffer is over its limit, or done.
    void start_reader() {
        // As small as a raw reader's: an idle session only ever reads pings and pongs, and
        // read_next/take_read double it as soon as reads fill it.
        read_buffer.resize(
            std::min<std::size_t>(64, frame_header_size + self.config_.max_frame_payload));
        read_next();
    }

    // Starts the next read, pauses (back-pressure: resume_reader() restarts it), or ends.
    void read_next() {
        if (writer_done)
            return reader_finish(writer_result);
        if (stop_reason && !draining())
            return reader_finish(stop_reason);
        if (inbox_bytes > self.config_.receive_buffer_limit && !stop_reason) {
            reader_paused = true;
            return;
        }
        reader_paused = false;
        // Small while idle (most sessions mostly are); a read that fills the free space means
        // more is waiting, so the buffer doubles then, up to 64 KiB (bigger frames grow it in
        // on_read).
        const std::size_t max_frame = frame_header_size + self.config_.max_frame_payload;
        if (read_buffer.size() - read_end < 256 && read_begin > 0) {
            std::copy(read_buffer.begin() + read_begin, read_buffer.begin() + read_end,
                      read_buffer.begin());
            read_end -= read_begin;
            read_begin = 0;
        }
        if (read_end == read_buffer.size()) {
            const std::size_t doubled = read_buffer.size() * 2;
            read_buffer.resize(doubled < max_frame ? doubled : max_frame);
        }
        self.stream_.async_read_some(
            boost::asio::buffer(read_buffer.data() + read_end, read_buffer.size() - read_end),
            detail::with_operation_cache(
                [this](boost::system::error_code ec, std::size_t n) { on_read(ec, n); }));
    }

    void on_read(boost::system::error_code ec, std::size_t n) {
        boost::system::error_code reason;
        try {
            reason = take_read(ec, n);
        } catch (...) { // from a callback of the application
            reason = detail::error_of(std::current_exception());
        }
        if (reason)
            return reader_finish(reason);
        read_next();
    }

    // Handles what a read brought; returns why the session must end, or {} to read on.
    boost::system::error_code take_read(boost::system::error_code ec, std::size_t n) {
        if (writer_done)
            return writer_result;
        if (stop_reason && !draining())
            return stop_reason;
        if (ec) {
            if (ec == boost::asio::error::eof || ec == boost::asio::error::connection_reset ||
                ec == boost::asio::ssl::error::stream_truncated) {
                if (read_end != read_begin)
                    return error::truncated_frame;
                return error::peer_closed;
            }
            return ec;
        }
        const std::size_t max_frame = frame_header_size + self.config_.max_frame_payload;
        const bool filled = read_end + n == read_buffer.size();
        read_end += n;
        detail::counter_add(self.shared_->bytes_received, n);
        if (filled && read_buffer.size() < std::min<std::size_t>(64 * 1024, max_frame))
            read_buffer.resize(
                std::min<std::size_t>({read_buffer.size() * 2, 64 * 1024, max_frame}));
        const time_point now = clock::now();
        bool saw_inbound = false;
        while (read_begin != read_end) { // usually the read ended on a frame boundary
            const std::span<const std::uint8_t> unparsed(read_buffer.data() + read_begin,
                                                         read_end - read_begin);
            if (hello_received) {
                if (const auto d = peek_data_frame(unparsed, self.config_.max_frame_payload)) {
                    detail::counter_add(self.shared_->frames_received, 1);
                    saw_inbound = true;
                    if (auto err = on_data(d->payload, d->fin))
                        return err;
                    read_begin += d->consumed;
                    continue;
                }
            }
            const auto r = parse_frame(unparsed, self.config_.max_frame_payload);
            if (r.st == parse_result::status::error)
                return r.ec;
            if (r.st == parse_result::status::need_more) {
                if (r.need > read_buffer.size() - read_begin) {
                    // Make room for the whole frame (bounded by max_frame_payload).
                    std::copy(read_buffer.begin() + read_begin, read_buffer.begin() + read_end,
                              read_buffer.begin());
                    read_end -= read_begin;
                    read_begin = 0;
                    if (r.need > read_buffer.size())
                        read_buffer.resize(
                            std::max(r.need, std::min(max_frame, read_buffer.size() * 2)));
                }
                break;
            }
            if (auto err = on_frame(r.value, now, saw_inbound))
                return err;
            read_begin += r.consumed;
        }
        if (read_begin == read_end)
            read_begin = read_end = 0;
        if (saw_inbound && !monitor.on_routine_inbound(now)) {
            const peer_state before = monitor.state();
            if (auto err = apply(monitor.on_inbound(now), before, now))
                return err;
        }
        // First the application, whose reply (written at once) may carry the ACK.
        hand_over_received();
        schedule_ack(now);
        return {};
    }

    // Restarts a paused reader, through the scheduler: callers are stop() (which runs inside
    // cancellation handlers too), the writer's end and async_receive's initiation.
    void resume_reader() {
        if (!reader_paused || reader_resume_posted)
            return;
        reader_resume_posted = true;
        boost::asio::post(exec, detail::with_operation_cache([this] {
                              reader_resume_posted = false;
                              if (reader_paused)
                                  read_next();
                          }));
    }

    // The reader has ended the session: the run goes on from the scheduler (the reader may be
    // deep in a completion here).
    void reader_finish(boost::system::error_code reason) {
        reader_done = true;
        reader_paused = false;
        reader_result = reason;
        boost::asio::post(exec, detail::with_operation_cache([this] { after_reader(); }));
    }

    // Writes what is queued: control frames first, then data (whole small messages batched, a
    // large one one chunk at a time), or goes idle; finishes once the session stops.
    void write_next() {
        if (stop_reason && !draining())
            return writer_finish(stop_reason);
        write_buffers.clear();
        batch_entries = 0;
        data_frames = 0;
        // Withdrawn (cancelled) messages at the front are simply dropped.
        while (!send_queue.empty() && send_queue.front().withdrawn)
            send_queue.pop_front();
        if (send_queue.empty() && control_out.empty() && delivered == ack_sent && !stop_reason) {
            writer_idle = true; // the common case after a write: nothing more to do
            return;
        }
        // Piggyback the cumulative ACK on any write.
        if (delivered != ack_sent && (!control_out.empty() || !send_queue.empty())) {
            ack_sent = delivered;
            encode_append(ack_frame{delivered}, control_out);
        }
        control_writing.clear();
        pings_writing.clear();
        std::swap(control_writing, control_out);
        std::swap(pings_writing, pings_queued);
        if (send_queue.empty() && !control_writing.empty()) {
            // Control frames alone (an idle session's pings): one buffer, no gather list (whose
            // capacity every idle session would otherwise keep).
            in_write = 0;
            write_started = pings_writing.empty() ? time_point{} : clock::now();
            boost::asio::async_write(
                self.stream_,
                boost::asio::const_buffer(control_writing.data(), control_writing.size()),
                written_handler());
            return;
        }
        if (!control_writing.empty())
            write_buffers.emplace_back(boost::asio::buffer(control_writing));
        std::size_t batch_bytes = 0;
        for (std::size_t i = 0; i < send_queue.size() && batch_entries < max_batch_frames &&
                                batch_bytes < self.config_.chunk_size;
             ++i) {
            auto& m = send_queue[i];
            if (!staging)
                staging = std::make_unique<data_frame_staging>();
            if (m.withdrawn) {
                staging->chunk_sizes[batch_entries++] = 0; // keeps indices aligned; not written
                continue;
            }
            const std::size_t remaining = m.payload.size() - m.offset;
            const std::size_t chunk = std::min(remaining, self.config_.chunk_size);
            const bool fin = chunk == remaining;
            const auto flags = fin ? flag_fin : std::uint8_t{0};
            if (detail::bytes_inside(m.payload)) {
                auto& staged = staging->short_frames[batch_entries];
                encode_header(frame_type::data, flags, static_cast<std::uint32_t>(chunk),
                              staged.data());
                std::memcpy(staged.data() + frame_header_size, m.payload.data() + m.offset, chunk);
                write_buffers.emplace_back(
                    boost::asio::buffer(staged.data(), frame_header_size + chunk));
            } else {
                auto& header = staging->headers[batch_entries];
                encode_header(frame_type::data, flags, static_cast<std::uint32_t>(chunk),
                              header.data());
                write_buffers.emplace_back(boost::asio::buffer(header));
                if (chunk)
                    write_buffers.emplace_back(
                        boost::asio::buffer(m.payload.data() + m.offset, chunk));
            }
            ++data_frames;
            staging->chunk_sizes[batch_entries++] = chunk;
            batch_bytes += chunk + frame_header_size;
            if (!fin)
                break; // the rest of this message waits behind any new control frame
        }
        if (write_buffers.empty()) {
            if (stop_reason)
                return writer_finish(stop_reason); // closing and everything flushed
            if (delivered != ack_sent)
                arm_ack_timer();
            writer_idle = true;
            return;
        }
        in_write = batch_entries;
        write_started = pings_writing.empty() ? time_point{} : clock::now();
        auto done = written_handler();
        // A batch of one buffer, or a small one copied into one, goes out through Asio's
        // single-buffer write, much cheaper than its gather path (copying a few hundred bytes
        // costs less than the difference).
        std::size_t total = 0;
        for (const auto& b : write_buffers)
            total += b.size();
        if (write_buffers.size() == 1 || total <= coalesce_limit) {
            boost::asio::const_buffer one = write_buffers.front();
            if (write_buffers.size() > 1) {
                auto& coalesced = staging->coalesced; // several buffers: DATA frames among them
                if (coalesced.size() < total)
                    coalesced.resize(total);
                std::uint8_t* out = coalesced.data();
                for (const auto& b : write_buffers) {
                    std::memcpy(out, b.data(), b.size());
                    out += b.size();
                }
                one = boost::asio::const_buffer(coalesced.data(), total);
            }
            boost::asio::async_write(self.stream_, one, std::move(done));
            return;
        }
        // A span, not the vector: async_write copies its buffer sequence into the operation,
        // and copying a vector is an allocation per write.
        boost::asio::async_write(self.stream_,
                                 std::span<const boost::asio::const_buffer>(write_buffers),
                                 std::move(done));
    }

    auto written_handler() {
        return detail::with_operation_cache(
            [this](boost::system::error_code ec, std::size_t n) { on_written(ec, n); });
    }

    void on_written(boost::system::error_code ec, std::size_t n) {
        in_write = 0;
        if (ec) {
            stream_dirty = true;
            // Messages whose last chunk went out whole before the cut did reach the
            // transport: report them sent, the rest fail with the reason.
            std::size_t left = n > control_writing.size() ? n - control_writing.size() : 0;
            std::size_t whole = 0;
            for (std::size_t i = 0; i < batch_entries; ++i) {
                auto& m = send_queue[i];
                if (m.withdrawn) {
                    ++whole;
                    continue;
                }
                const std::size_t frame_bytes = frame_header_size + staging->chunk_sizes[i];
                if (left < frame_bytes)
                    break;
                left -= frame_bytes;
                m.offset += staging->chunk_sizes[i];
                if (m.offset != m.payload.size())
                    break;
                ++whole;
            }
            detail::counter_add(self.shared_->bytes_sent, n);
            complete_front(whole);
            if (stop_reason)
                return writer_finish(stop_reason);
            // The peer went away (killed, closed): the same ending the reader reports.
            if (ec == boost::asio::error::connection_reset ||
                ec == boost::asio::error::broken_pipe || ec == boost::asio::error::eof)
                return writer_finish(error::peer_closed);
            return writer_finish(ec);
        }
        detail::counter_add(self.shared_->bytes_sent, n);
        if (!pings_writing.empty()) {
            const time_point now = clock::now();
            for (const std::uint64_t seq : pings_writing)
                monitor.on_ping_written(seq, now, write_started);
        }
        std::size_t finished = 0;
        for (std::size_t i = 0; i < batch_entries; ++i) {
            auto& m = send_queue[i];
            m.offset += staging->chunk_sizes[i];
            if (m.withdrawn || m.offset == m.payload.size())
                ++finished;
            else
                break;
        }
        detail::counter_add(self.shared_->frames_sent, data_frames);
        complete_front(finished, true);
        write_next();
    }

    // The writer ends the session (closing and flushed, a write error, or the session stopped):
    // the reader stops too, whatever it was waiting for, and the run may say farewell.
    void writer_finish(boost::system::error_code reason) {
        writer_done = true;
        writer_result = reason;
        boost::system::error_code ignored;
        detail::lowest_layer_of(self.stream_).cancel(ignored);
        resume_reader();
        if (farewell_waits_for_writer) {
            farewell_waits_for_writer = false;
            boost::asio::post(exec, detail::with_operation_cache([this] { say_farewell(); }));
        }
    }

    // The first `count` queued messages were written whole (or withdrawn): report them sent.
    // `at_once`: we are in the completion of a successful write, not in async_send, so the
    // handlers may run now rather than after another trip through the scheduler.
    void complete_front(std::size_t count, bool at_once = false) {
        for (std::size_t i = 0; i < count && !send_queue.empty(); ++i) {
            auto& m = send_queue.front();
            if (m.withdrawn) {
                send_queue.pop_front();
                continue;
            }
            detail::counter_sub(self.shared_->queued_send_bytes, m.payload.size());
            detail::counter_add(self.shared_->messages_sent, 1);
            recycle(std::move(m.payload));
            // Off the queue before it runs: the handler may send again.
            send_box h(std::move(m.handler));
            const bool direct = m.direct;
            send_queue.pop_front();
            if (!at_once)
                detail::complete_later(std::move(h), exec, boost::system::error_code{});
            else if (direct)
                detail::invoke_now(std::move(h), exec, boost::system::error_code{});
            else
                detail::complete_now(std::move(h), boost::system::error_code{});
        }
    }

    // The heartbeat: one timer armed for the monitor's next deadline (the handshake deadline
    // until HELLO arrived), driven by plain callbacks -- a coroutine here would cost a frame and
    // a parallel-group branch per session. Cancelling the timer re-arms it (interval change,
    // handshake done, an earlier deadline); it stops once the session stops, or after the run.
    void arm_heartbeat() {
        const time_point deadline = hello_received ? monitor.next_deadline() : handshake_deadline;
        heartbeat_timer.expires_at(deadline);
        armed_deadline = deadline;
        heartbeat_timer.async_wait(detail::with_operation_cache(
            [this](boost::system::error_code ec) { on_heartbeat(ec); }));
    }

    void on_heartbeat(boost::system::error_code ec) {
        if (heartbeat_over || (stop_reason && !draining()))
            return;
        if (!ec) {
            const time_point now = clock::now();
            boost::system::error_code err;
            if (!hello_received) {
                if (now >= handshake_deadline)
                    err = error::handshake_timeout;
            } else {
                const peer_state before = monitor.state();
                err = apply(monitor.on_timer(now), before, now);
            }
            if (err) {
                end_loops(err);
                return;
            }
        }
        arm_heartbeat();
    }

    // The heartbeat decided that the session ends (verdict, handshake timeout): the reader and
    // the writer stop at once, whatever they were waiting for.
    void end_loops(boost::system::error_code reason) {
        heartbeat_over = true;
        loops_aborting = true;
        stop(reason);
        boost::system::error_code ignored;
        detail::lowest_layer_of(self.stream_).cancel(ignored);
    }

    // The run. Everything is driven by completions (no coroutine frame while the session
    // lives): the writer and the heartbeat on callbacks, the reader on its reads. Once the
    // reader has ended the session the writer stops, then the farewell (a coroutine, spawned
    // only then) and the run completes.
    void start() {
        detail::apply_tcp_keepalive(detail::lowest_layer_of(self.stream_), self.config_);
        const auto& cfg = self.config_;
        queue_control(hello_frame{protocol_version, detail::to_ms32(cfg.min_peer_ping_interval),
                                  detail::to_ms32(cfg.max_peer_ping_interval), cfg.session_id, 0,
                                  cfg.first_seq});
        publish_monitor();
        handshake_deadline = clock::now() + cfg.handshake_timeout;
        arm_heartbeat();
        write_next(); // the HELLO
        start_reader();
    }

    void after_reader() {
        if (!writer_done) {
            // The reader ended the session: the writer stops (a write in flight is cut short,
            // as the peer is gone or the session was cancelled) before the farewell writes.
            if (!stop_reason)
                stop_reason = reader_result;
            loops_aborting = true;
            if (writer_idle) {
                writer_idle = false;
                writer_finish(stop_reason);
            } else {
                farewell_waits_for_writer = true; // writer_finish() goes on
                boost::system::error_code ignored;
                detail::lowest_layer_of(self.stream_).cancel(ignored);
                return;
            }
        }
        say_farewell();
    }

    void say_farewell() {
        heartbeat_over = true;
        heartbeat_timer.cancel(); // the callbacks must not outlive the run
        if (wake_timer)
            wake_timer->cancel();
        ack_timer_armed = false;
        boost::system::error_code reason = reader_result;
        if (stop_reason)
            reason = stop_reason;
        stop_reason = reason;
        boost::asio::co_spawn(exec, farewell(reason), [this, reason](std::exception_ptr ep) {
            end_run(ep ? detail::error_of(ep) : reason);
        });
    }

    void end_run(boost::system::error_code reason) {
        finish(reason);
        auto completion = std::move(*run_completion);
        run_completion.reset();
        detail::complete_later(std::move(completion), exec, reason);
    }

    // Best effort, bounded by close_timeout: tell the peer why we end, then tear down.
    boost::asio::awaitable<void> farewell(boost::system::error_code reason) {
        using namespace boost::asio::experimental::awaitable_operators;
        // Say why on the wire unless the transport is gone or a cut write left a partial frame.
        if (reason.category() == heartbeat_category() && !stream_dirty) {
            std::vector<std::uint8_t> bytes;
            if (reason == error::session_closed)
                control_out.clear(); // anything left here is heartbeat traffic
            bytes.swap(control_out);
            const std::uint16_t code = reason == error::session_closed ? 1000
                                       : reason == error::peer_closed  ? 1000
                                       : reason == error::peer_dead    ? 1011
                                                                       : 1002;
            encode_append(close_frame{code, error_name(reason)}, bytes);
            timer_type close_timer(exec); // only the farewell needs it: not kept per session
            close_timer.expires_after(self.config_.close_timeout);
            auto written = co_await (
                boost::asio::async_write(self.stream_, boost::asio::buffer(bytes),
                                         boost::asio::as_tuple(boost::asio::use_awaitable)) ||
                close_timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable)));
            if (reason == error::session_closed && written.index() == 0 &&
                !std::get<0>(std::get<0>(written))) {
                // Graceful close: wait (bounded) for the peer to close its side, reading what it
                // still sends, so our close does not turn into a reset that destroys data the
                // peer has not read yet.
                boost::system::error_code ignored;
                detail::lowest_layer_of(self.stream_)
                    .shutdown(boost::asio::socket_base::shutdown_send, ignored);
                co_await (drain_until_eof() || close_timer.async_wait(boost::asio::as_tuple(
                                                   boost::asio::use_awaitable)));
            }
        }
        auto& socket = detail::lowest_layer_of(self.stream_);
        boost::system::error_code ignored;
        socket.shutdown(boost::asio::socket_base::shutdown_both, ignored);
        socket.close(ignored);
    }

    boost::asio::awaitable<void> drain_until_eof() {
        std::array<std::uint8_t, 4096> scratch;
        for (;;) {
            auto [ec, n] = co_await self.stream_.async_read_some(
                boost::asio::buffer(scratch), boost::asio::as_tuple(boost::asio::use_awaitable));
            if (ec)
                co_return;
        }
    }

    void finish(boost::system::error_code reason) {
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
        if (pending_receive) {
            auto h = std::move(*pending_receive);
            pending_receive.reset();
            // A message parsed in the read that ended the session may not be handed over yet.
            if (received_message m; take_received(m))
                detail::complete_later(std::move(h), exec, boost::system::error_code{},
                                       std::move(m));
            else
                detail::complete_later(std::move(h), exec, reason, received_message{});
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

template <class Stream>
basic_session<Stream>::basic_session(Stream stream, session_config config,
                                     session_callbacks callbacks)
    : stream_(std::move(stream)), config_(std::move(config)), callbacks_(std::move(callbacks)),
      shared_(std::make_unique<detail::session_shared_stats>()) {
    if (!validate(config_))
        loops_ = std::make_unique<run_loops>(*this);
}

template <class Stream>
basic_session<Stream>::~basic_session() = default;

template <class Stream>
void basic_session<Stream>::start_run(run_handler handler) {
    boost::asio::dispatch(stream_.get_executor(), [this, h = std::move(handler)]() mutable {
        const auto ex = stream_.get_executor();
        if (!loops_) { // the config was invalid
            detail::complete_later(std::move(h), ex,
                                   boost::system::error_code(error::invalid_config));
            return;
        }
        if (loops_->run_started) {
            detail::complete_later(std::move(h), ex,
                                   boost::system::error_code(boost::asio::error::already_started));
            return;
        }
        loops_->run_started = true;
        auto slot = boost::asio::get_associated_cancellation_slot(h);
        if (slot.is_connected())
            slot.assign([this](boost::asio::cancellation_type) { cancel(); });
        loops_->run_completion.emplace(std::move(h));
        loops_->start();
    });
}

template <class Stream>
bool basic_session<Stream>::is_our_executor(const executor_type& ex) {
    return loops_ ? ex == loops_->exec : ex == stream_.get_executor();
}

// At once when already on the session's executor (what dispatch would do, without moving the
// message and handler into a function object and through a type-erased executor).
template <class Stream>
void basic_session<Stream>::start_send(std::string&& message, send_box&& handler, bool direct) {
    if (loops_ && detail::running_in_this_thread(loops_->exec)) {
        send_here(std::move(message), std::move(handler), direct);
        return;
    }
    boost::asio::dispatch(stream_.get_executor(),
                          [this, direct, m = std::move(message), h = std::move(handler)]() mutable {
                              send_here(std::move(m), std::move(h), direct);
                          });
}

template <class Stream>
void basic_session<Stream>::send_here(std::string&& m, send_box&& h, bool direct) {
    if (!loops_) {
        detail::complete_later(std::move(h), stream_.get_executor(),
                               boost::system::error_code(error::invalid_config));
        return;
    }
    auto& l = *loops_;
    if (auto refused = detail::send_refusal(l.ended, l.end_reason, l.stop_reason, l.closing)) {
        detail::complete_later(std::move(h), l.exec, refused);
        return;
    }
    const std::uint64_t id = l.next_message_id++;
    const std::uint64_t seq = l.next_out_seq++;
    auto slot = h.cancellation_slot();
    if (slot.is_connected()) {
        slot.assign([this, id](boost::asio::cancellation_type) {
            detail::withdraw_queued(
                loops_->send_queue, id,
                [this](const outgoing_message&, std::size_t i) { return i < loops_->in_write; },
                shared_->queued_send_bytes, stream_.get_executor());
        });
    }
    detail::counter_add(shared_->queued_send_bytes, m.size());
    // Constructed in place: a move of the message and of the handler less.
    l.send_queue.emplace_back(std::move(m), std::size_t{0}, std::move(h), id, false, seq, direct);
    l.wake_writer();
}

template <class Stream>
void basic_session<Stream>::start_receive(receive_box&& handler, bool direct) {
    if (loops_ && detail::running_in_this_thread(loops_->exec)) {
        receive_here(std::move(handler), direct);
        return;
    }
    boost::asio::dispatch(stream_.get_executor(), [this, direct, h = std::move(handler)]() mutable {
        receive_here(std::move(h), direct);
    });
}

template <class Stream>
void basic_session<Stream>::receive_here(receive_box&& h, bool direct) {
    if (!loops_) {
        detail::complete_later(std::move(h), stream_.get_executor(),
                               boost::system::error_code(error::invalid_config),
                               received_message{});
        return;
    }
    auto& l = *loops_;
    const auto& ex = l.exec;
    if (l.pending_receive) {
        detail::complete_later(std::move(h), ex,
                               boost::system::error_code(boost::asio::error::already_started),
                               received_message{});
        return;
    }
    if (received_message m; l.take_received(m)) {
        if (l.reader_paused && l.inbox_bytes <= config_.receive_buffer_limit)
            l.resume_reader();
        l.schedule_ack(clock::now());
        detail::complete_later(std::move(h), ex, boost::system::error_code{}, std::move(m));
        return;
    }
    if (l.ended) {
        detail::complete_later(std::move(h), ex, l.end_reason, received_message{});
        return;
    }
    detail::park_cancellable(l.pending_receive, std::move(h), ex, received_message{},
                             [this] { return &loops_->pending_receive; });
    l.pending_receive_direct = direct;
}

template <class Stream>
void basic_session<Stream>::start_wait_event(event_handler handler) {
    boost::asio::dispatch(stream_.get_executor(), [this, h = std::move(handler)]() mutable {
        const auto ex = stream_.get_executor();
        if (!loops_) {
            detail::complete_later(std::move(h), ex,
                                   boost::system::error_code(error::invalid_config),
                                   session_event{});
            return;
        }
        auto& l = *loops_;
        if (l.pending_event) {
            detail::complete_later(std::move(h), ex,
                                   boost::system::error_code(boost::asio::error::already_started),
                                   session_event{});
            return;
        }
        if (!l.events.empty()) {
            session_event e = l.events.pop_front();
            if (e.kind == session_event_kind::ended)
                l.ended_event_taken = true;
            detail::complete_later(std::move(h), ex, boost::system::error_code{}, std::move(e));
            return;
        }
        if (l.ended && l.ended_event_taken) {
            detail::complete_later(std::move(h), ex, l.end_reason, session_event{});
            return;
        }
        detail::park_cancellable(l.pending_event, std::move(h), ex, session_event{},
                                 [this] { return &loops_->pending_event; });
    });
}

template <class Stream>
void basic_session<Stream>::close() {
    boost::asio::dispatch(stream_.get_executor(), [this] {
        if (!loops_ || loops_->ended || loops_->closing)
            return;
        loops_->closing = true;
        loops_->stop(error::session_closed);
    });
}

template <class Stream>
void basic_session<Stream>::cancel() {
    boost::asio::dispatch(stream_.get_executor(), [this] {
        if (!loops_ || loops_->ended)
            return;
        loops_->stop(boost::asio::error::operation_aborted);
        boost::system::error_code ignored;
        detail::lowest_layer_of(stream_).cancel(ignored);
    });
}

template <class Stream>
session_stats basic_session<Stream>::stats() const {
    session_stats s;
    const auto& sh = *shared_;
    s.bytes_sent = sh.bytes_sent.load(std::memory_order_relaxed);
    s.bytes_received = sh.bytes_received.load(std::memory_order_relaxed);
    s.frames_sent = sh.frames_sent.load(std::memory_order_relaxed);
    s.frames_received = sh.frames_received.load(std::memory_order_relaxed);
    s.messages_sent = sh.messages_sent.load(std::memory_order_relaxed);
    s.messages_received = sh.messages_received.load(std::memory_order_relaxed);
    s.duplicates_dropped = sh.duplicates_dropped.load(std::memory_order_relaxed);
    s.delivered_seq = sh.delivered_seq.load(std::memory_order_relaxed);
    s.peer_acked = sh.peer_acked.load(std::memory_order_relaxed);
    s.pings_answered = sh.pings_answered.load(std::memory_order_relaxed);
    s.ping_strikes = sh.ping_strikes.load(std::memory_order_relaxed);
    s.slow_downs_sent = sh.slow_downs_sent.load(std::memory_order_relaxed);
    s.slow_downs_received = sh.slow_downs_received.load(std::memory_order_relaxed);
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
