#pragma once
// The native heartbeat protocol as a byte-stream profile (frame layout in frame_codec.hpp).
// HELLO both ways negotiates the interval and resumes a logical session; PING/PONG carry a
// sequence number and the sender's send time (matched by id); DATA frames are chunks of a
// message, so a ping slips in between the chunks of a large one; ACK acknowledges delivered
// messages cumulatively (the supervisor frees its resend buffer) and, timed, measures the round
// trip of a numbered message under traffic; SLOW_DOWN polices peers that
// ping too often; CLOSE says why a session ends. The policies (ping_policer, ack_schedule,
// close_code_for in core/, the HELLO rules in hello_rules.hpp) are sans-io.
#include <heartbeat/core/ack_schedule.hpp>
#include <heartbeat/core/close_code.hpp>
#include <heartbeat/core/ping_policer.hpp>
#include <heartbeat/detail/single_writer_counter.hpp>
#include <heartbeat/protocol/native/frame_codec.hpp>
#include <heartbeat/protocol/native/hello_rules.hpp>
#include <heartbeat/protocol/native/session_config.hpp>
#include <heartbeat/session/byte_stream_profile.hpp>
#include <heartbeat/session/resume_store.hpp>
#include <heartbeat/session/session_events.hpp>

#include <algorithm>
#include <chrono>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <variant>

namespace heartbeat {

class native_profile {
public:
    using config_type = session_config;
    using message_type = received_message;
    using send_options = no_send_options;
    using outgoing_tag = no_outgoing_tag;
    static constexpr const char* protocol_label = "native"; // metrics label
    static constexpr ping_matching matching = ping_matching::by_id;
    static constexpr bool receive_payload_only = true;
    static constexpr bool pings_between_chunks = true;
    static constexpr std::size_t max_prefix = frame_header_size;

    static std::optional<config_error> validate(const session_config& c) {
        return heartbeat::validate(c);
    }

    explicit native_profile(const session_config& c)
        : config_(c), next_out_seq_(c.first_seq), ack_(c.ack_delay),
          policer_(c.min_peer_ping_interval, c.max_ping_strikes) {}

    std::size_t max_frame_size() const noexcept {
        return frame_header_size + config_.max_frame_payload;
    }
    std::size_t chunk_size() const noexcept { return config_.chunk_size; }

    duration max_negotiated_interval() const noexcept {
        return max_negotiated_interval_of(config_);
    }

    template <class Ctx>
    void start(Ctx& ctx) {
        encode_append(hello_of(config_), ctx.control());
    }

    void encode_ping(std::vector<std::uint8_t>& out, std::uint64_t seq, time_point now) {
        encode_append(ping_frame{seq, to_wire_micros(now)}, out);
    }

    boost::system::error_code admit(std::string&, const no_send_options&,
                                    no_outgoing_tag&) const noexcept {
        return {};
    }

    std::size_t prefix(std::uint8_t* out, std::size_t chunk, bool fin) const noexcept {
        encode_header(frame_type::data, fin ? flag_fin : std::uint8_t{0},
                      static_cast<std::uint32_t>(chunk), out);
        return frame_header_size;
    }
    std::span<const std::uint8_t> suffix(bool) const noexcept { return {}; }
    std::uint32_t replies_expected(const no_outgoing_tag&) const noexcept { return 0; }

    void goodbye(std::vector<std::uint8_t>& out, boost::system::error_code reason) {
        encode_append(close_frame{close_code_for(reason), error_name(reason)}, out);
    }

    // One frame from the start of `unparsed`. DATA, the hot path, is decoded inline.
    template <class Ctx>
    frame_status parse(Ctx& ctx, std::span<const std::uint8_t> unparsed) {
        if (hello_received_) {
            if (const auto d = peek_data_frame(unparsed, config_.max_frame_payload)) {
                detail::counter_add(ctx.stats().frames_received, 1);
                ctx.traffic();
                if (auto err = on_data(ctx, d->payload, d->fin))
                    return frame_status::failed(err);
                return frame_status::complete(d->consumed);
            }
        }
        const auto r = parse_frame(unparsed, config_.max_frame_payload);
        if (r.st == parse_result::status::error)
            return frame_status::failed(r.ec);
        if (r.st == parse_result::status::need_more)
            return frame_status::need_more(r.need);
        if (auto err = on_frame(ctx, r.value))
            return frame_status::failed(err);
        return frame_status::complete(r.consumed);
    }

    // A queued message is delivered (claimed in the resume store, covered by our ACKs) only as
    // the application takes it: a session whose application stops taking messages -- a frozen
    // or dying process -- must not acknowledge them, or the sender would drop from its resend
    // buffer what no application got. False: another connection of this logical session
    // (servers sharing a resume store, or a stale connection thawed after a freeze) already
    // handed it to its application.
    template <class Ctx>
    bool accept_taken(Ctx& ctx, received_message& m) {
        if (resume_counter_) {
            std::uint64_t seen = resume_counter_->load(std::memory_order_relaxed);
            while (seen < m.seq &&
                   !resume_counter_->compare_exchange_weak(seen, m.seq, std::memory_order_relaxed))
                ;
            if (seen >= m.seq)
                return false;
        }
        ack_.delivered(m.seq); // the application's reply, written at once, may carry the ACK
        ctx.stats().delivered_seq.store(m.seq, std::memory_order_relaxed);
        return true;
    }

    // Acknowledge in bulk (ack_schedule): at once for a full batch; otherwise the writer
    // piggybacks it on the next write (before_write), or sends it alone once due.
    template <class Ctx>
    void on_taken(Ctx& ctx, time_point now) {
        if (!hello_received_ || ctx.ended())
            return;
        switch (ack_.schedule(now)) {
        case ack_schedule::action::send_now:
            encode_append(ack_of(*ack_.take(), clock::now()), ctx.control());
            ctx.wake_writer();
            break;
        case ack_schedule::action::send_at:
            ctx.wake_writer(); // an idle writer asks on_writer_idle, which arms the wake-up
            break;
        case ack_schedule::action::none:
            break;
        }
    }

    template <class Ctx>
    void before_write(Ctx& ctx) {
        if (const auto value = ack_.take())
            encode_append(ack_of(*value, clock::now()), ctx.control());
    }

    template <class Ctx>
    bool on_writer_idle(Ctx& ctx) {
        if (!ack_.pending())
            return false;
        const time_point now = clock::now();
        if (ack_.due_by(now)) {
            encode_append(ack_of(*ack_.take(), now), ctx.control()); // nothing came to ride on
            return true;
        }
        ctx.wake_at(ack_.due());
        return false;
    }

    // Whether the messages of the next write may be measured (the clock is read for them only
    // then): the peer sends timed ACKs, and the last sample is old enough at `recent` (the
    // time of the last read, which is at most as late as now).
    bool wants_write_time(time_point recent) const noexcept {
        return peer_takes_timed_acks_ && recent >= next_sample_;
    }

    // One of our messages went out whole, in a write that began at `write_started`
    // (time_point{} when not measured, see wants_write_time): the newest one a timed ACK can
    // measure the round trip of. Messages are numbered in the order they are written, from the
    // first_seq our HELLO announced.
    template <class Ctx>
    void on_message_written(Ctx&, time_point write_started) noexcept {
        last_out_seq_ = next_out_seq_++;
        last_out_written_ = write_started;
    }

private:
    template <class Ctx>
    boost::system::error_code on_frame(Ctx& ctx, const frame& f) {
        detail::counter_add(ctx.stats().frames_received, 1);
        if (!hello_received_ && !std::holds_alternative<hello_frame>(f))
            return error::data_before_hello;
        switch (type_of(f)) {
        case frame_type::hello:
            return on_hello(ctx, std::get<hello_frame>(f));
        case frame_type::data: {
            ctx.traffic();
            const auto& d = std::get<data_frame>(f);
            return on_data(ctx, d.payload, d.fin);
        }
        case frame_type::ping:
            ctx.traffic();
            return on_ping(ctx, std::get<ping_frame>(f));
        case frame_type::pong:
            return ctx.pong(std::get<pong_frame>(f).seq);
        case frame_type::ack:
            ctx.traffic();
            return on_ack(ctx, std::get<ack_frame>(f));
        case frame_type::slow_down: {
            ctx.traffic();
            detail::counter_add(ctx.stats().slow_downs_received, 1);
            const duration min =
                std::chrono::milliseconds(std::get<slow_down_frame>(f).min_interval_ms);
            if (min > max_negotiated_interval())
                return error::incompatible_interval;
            if (min > ctx.interval())
                ctx.set_interval(min);
            return {};
        }
        case frame_type::close:
            return error::peer_closed;
        }
        return error::unknown_frame_type;
    }

    template <class Ctx>
    boost::system::error_code on_hello(Ctx& ctx, const hello_frame& h) {
        if (hello_received_)
            return error::malformed_frame;
        const auto verdict = accept_hello(config_, h);
        if (verdict.ec)
            return verdict.ec;
        hello_received_ = true;
        peer_takes_timed_acks_ = (h.features & feature_timed_ack) != 0;
        next_in_seq_ = h.first_seq;
        std::uint64_t delivered = h.first_seq - 1;
        if (config_.resume && h.session_id != 0) {
            resume_counter_ = config_.resume->attach(h.session_id);
            delivered = std::max(delivered, resume_counter_->load(std::memory_order_relaxed));
            // Tell the resuming peer at once what it need not wait for.
            ack_.reset(delivered);
            encode_append(ack_frame{.delivered = delivered}, ctx.control());
            ctx.wake_writer();
        } else {
            ack_.reset(delivered);
        }
        ctx.stats().delivered_seq.store(delivered, std::memory_order_relaxed);
        return ctx.handshake_done(verdict.interval);
    }

    template <class Ctx>
    boost::system::error_code on_ping(Ctx& ctx, const ping_frame& p) {
        encode_append(pong_frame{p.seq, p.send_time_us}, ctx.control());
        ctx.wake_writer();
        detail::counter_add(ctx.stats().pings_answered, 1);
        const auto ruling = policer_.on_peer_ping(ctx.now());
        if (ruling == ping_policer::ruling::accept)
            return {};
        detail::counter_add(ctx.stats().ping_strikes, 1);
        if (ruling == ping_policer::ruling::too_many_pings)
            return error::too_many_pings;
        encode_append(slow_down_frame{to_wire_ms32(policer_.min_interval())}, ctx.control());
        ctx.wake_writer();
        detail::counter_add(ctx.stats().slow_downs_sent, 1);
        return {};
    }

    template <class Ctx>
    boost::system::error_code on_ack(Ctx& ctx, const ack_frame& a) {
        if (a.delivered <= peer_acked_)
            return {};
        peer_acked_ = a.delivered;
        ctx.stats().peer_acked.store(peer_acked_, std::memory_order_relaxed);
        if (ctx.callbacks().on_ack)
            ctx.callbacks().on_ack(peer_acked_);
        // A timed ACK of the newest message we wrote: the time since its write, less the time
        // it waited in the peer (for its application, and for a write to carry the ACK), is
        // the round trip. An ACK of an older message says nothing of when the newer ones left.
        // At most ten samples per interval: plenty for the estimator, and a fast exchange
        // (every message acknowledged) does not pay for a monitor step per message.
        const time_point now = ctx.now();
        if (!a.delay_us || a.delivered != last_out_seq_ || last_out_written_ == time_point{} ||
            now < next_sample_)
            return {};
        const duration sample = now - last_out_written_ - std::chrono::microseconds(*a.delay_us);
        last_out_written_ = time_point{}; // one sample per message
        if (sample < duration::zero())
            return {}; // the clocks' rates differ, or the peer overstates: no sample
        next_sample_ = now + ctx.interval() / 10;
        return ctx.rtt_sample(sample);
    }

    // The ACK of `value`, timed when the peer takes timed ACKs and `value` is the newest
    // message we received (the only one whose arrival we remember).
    ack_frame ack_of(std::uint64_t value, time_point now) const noexcept {
        const auto waited =
            std::chrono::duration_cast<std::chrono::microseconds>(now - last_in_arrived_).count();
        // Over 71 minutes does not fit: plain, rather than a delay the peer would misread.
        if (!peer_takes_timed_acks_ || value != last_in_seq_ || waited < 0 ||
            waited > std::numeric_limits<std::uint32_t>::max())
            return ack_frame{.delivered = value};
        return ack_frame{.delivered = value, .delay_us = static_cast<std::uint32_t>(waited)};
    }

    template <class Ctx>
    boost::system::error_code on_data(Ctx& ctx, std::span<const std::uint8_t> payload, bool fin) {
        if (assembling_.size() + payload.size() > config_.max_message_size)
            return error::message_too_large;
        if (fin && assembling_.empty()) {
            deliver(ctx, ctx.make_payload(payload));
        } else {
            assembling_.append(reinterpret_cast<const char*>(payload.data()), payload.size());
            if (fin) {
                deliver(ctx, std::move(assembling_));
                assembling_ = std::string();
            }
        }
        return {};
    }

    // A complete inbound message, queued for the application (see accept_taken).
    template <class Ctx>
    void deliver(Ctx& ctx, std::string payload) {
        const std::uint64_t seq = next_in_seq_++;
        if (seq <= ack_.delivered()) {
            // Re-sent after a reconnect, and delivered before it (by this logical session).
            detail::counter_add(ctx.stats().duplicates_dropped, 1);
            return;
        }
        last_in_seq_ = seq;
        last_in_arrived_ = ctx.now();
        ctx.deliver(received_message{seq, std::move(payload)});
    }

    const session_config& config_;
    std::string assembling_;
    std::uint64_t next_in_seq_ = 1; // sequence number of the next complete inbound message
    std::uint64_t peer_acked_ = 0;  // highest sequence number of ours the peer delivered
    // Timed ACKs: the newest message received and when it arrived; the newest message of ours
    // written whole and when its write began (reset once measured).
    std::uint64_t last_in_seq_ = 0;
    time_point last_in_arrived_{};
    std::uint64_t next_out_seq_;
    std::uint64_t last_out_seq_ = 0;
    time_point last_out_written_{};
    time_point next_sample_{};                              // no ACK sample before this
    std::shared_ptr<resume_store::counter> resume_counter_; // server side, resumable sessions
    ack_schedule ack_; // also knows the highest sequence number the application took
    bool hello_received_ = false;
    bool peer_takes_timed_acks_ = false; // its HELLO announced feature_timed_ack
    ping_policer policer_;
};

static_assert(byte_stream_profile<native_profile>);

} // namespace heartbeat
