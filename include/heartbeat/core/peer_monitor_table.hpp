#pragma once
// Heartbeat monitoring of many peers on one clock, sans-io: the decisions heartbeat_monitor
// takes for one peer (missed-count detector, local-stall guard, any_inbound or pong_only
// liveness), for up to millions of peers, with 32 bytes of state per peer and one shared
// timing wheel (8 to 16 more bytes per peer) instead of one timer per peer: 43 B/peer measured.
//
// The owner reports each peer's events with the time they happened (on_inbound, on_pong,
// on_ping_written) and calls advance(now) from one timer, e.g. every millisecond or at
// next_event(); every step hands its actions (send ping i with seq s, peer i is suspect, alive
// again, dead) to a sink callback, so steady state allocates nothing. The sink must not call the
// table back (queue the ping writes; report their completion later with on_ping_written). The rules
// are those of heartbeat_monitor.hpp, tick for tick:
// tests/unit/core/peer_monitor_table_differential_test.cpp runs both side by side on random
// schedules.
//
// What it leaves out, to stay small: the phi-accrual detector, the adaptive pong timeout, RTT
// statistics (a pong of the armed ping reports its round trip; keeping an estimator is the
// owner's choice) and so the RTT probes under traffic (monitor_config::probe_rtt_under_traffic
// is ignored: with no estimator to feed, a probe would only add pings). Time resolves to 1 ms ticks
// counted from `origin`: inputs between two ticks act as the earlier tick, so a verdict can land up
// to 1 ms earlier than heartbeat_monitor's on inputs that are not whole milliseconds. Per-peer
// times are 32-bit ticks compared modulo 2^32, so the table runs indefinitely (across 2^32 ms,
// ~49.7 days) as long as every configured duration stays under 2^31 ms and advance() is called at
// least once every 2^31 ms.
#include <heartbeat/core/config.hpp>
#include <heartbeat/core/error.hpp>
#include <heartbeat/core/heartbeat_monitor.hpp>
#include <heartbeat/core/peer_record.hpp>
#include <heartbeat/core/timing_wheel.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <vector>

namespace heartbeat {

enum class peer_action_kind : std::uint8_t { send_ping, suspect, alive, dead };

struct peer_action {
    std::uint32_t peer = 0;
    peer_action_kind kind = peer_action_kind::send_ping;
    std::uint32_t seq = 0; // send_ping: the ping's sequence number
    unsigned missed = 0;   // suspect, dead: consecutive unanswered pings
    duration silence{};    // dead: time since the last proof of life, as observed
    duration stalled{};    // dead: part of `silence` forgiven as our own stall
    time_point at{};       // when the step ran
};

class peer_monitor_table {
public:
    using peer_id = std::uint32_t;
    static constexpr duration tick_length = milliseconds(1);
    // The record and its (id, tick) in one wheel slot; stale copies and pool slack come on top.
    static constexpr std::size_t bytes_per_peer = sizeof(peer_record) + 2 * sizeof(std::uint32_t);

    // Names the first field the table cannot honour (it supports a subset of monitor_config).
    static std::optional<config_error> validate(const monitor_config& config);

    // Throws std::invalid_argument with validate()'s message. Allocates all `capacity` peers.
    peer_monitor_table(const monitor_config& config, std::size_t capacity, time_point origin,
                       std::uint64_t jitter_seed = 0x9e3779b97f4a7c15u);

    // Starts monitoring a new peer at `now` (alive, silence starts now); nullopt when full.
    // Ids of removed peers are reused.
    std::optional<peer_id> add(time_point now);
    // Stops monitoring `id` (any state); its id becomes free.
    void remove(peer_id id) noexcept;

    // Any inbound frame other than a pong. Events for ids outside the table are ignored (on_pong:
    // unexpected_pong), so a confused driver cannot corrupt other peers.
    template <class Sink>
    void on_inbound(peer_id id, time_point now, Sink&& sink) {
        if (id >= peers_.size())
            return;
        peer_record& p = peers_[id];
        if (!p.monitored())
            return;
        const timing_wheel::tick t = to_tick(now);
        if (liveness_ == liveness_mode::any_inbound)
            proof_of_life(p, static_cast<std::uint32_t>(t));
        finish(id, p, t, now, sink);
    }

    // A pong echoing `seq`. unexpected_pong for a ping never sent (nothing changes then).
    template <class Sink>
    boost::system::error_code on_pong(peer_id id, std::uint32_t seq, time_point now, Sink&& sink,
                                      std::optional<duration>* rtt = nullptr) {
        if (id >= peers_.size())
            return error::unexpected_pong;
        peer_record& p = peers_[id];
        if (seq == 0 || seq > p.last_seq)
            return error::unexpected_pong;
        if (!p.monitored())
            return {};
        const timing_wheel::tick t = to_tick(now);
        const auto t32 = static_cast<std::uint32_t>(t);
        if (rtt && p.armed && seq == p.last_seq)
            *rtt =
                milliseconds(static_cast<std::int32_t>(t32 - (p.armed_deadline - pong_timeout_)));
        proof_of_life(p, t32);
        finish(id, p, t, now, sink);
        return {};
    }

    // Ping `seq` was written to the transport at `now`: its reply deadline runs from here.
    template <class Sink>
    void on_ping_written(peer_id id, std::uint32_t seq, time_point now, Sink&& sink) {
        if (id >= peers_.size())
            return;
        peer_record& p = peers_[id];
        if (!p.monitored() || !p.armed || seq != p.last_seq)
            return;
        const timing_wheel::tick t = to_tick(now);
        p.armed_deadline = static_cast<std::uint32_t>(t) + pong_timeout_;
        finish(id, p, t, now, sink);
    }

    // Runs every peer whose deadline is at or before `now`, as heartbeat_monitor::on_timer
    // would if its timer fired at `now` (a deadline passed by more than stall_tolerance is a
    // local stall). Returns how many wheel entries fired (stale ones included).
    template <class Sink>
    std::size_t advance(time_point now, Sink&& sink) {
        const timing_wheel::tick now_tick = to_tick(now);
        const std::uint32_t t = static_cast<std::uint32_t>(now_tick);
        auto due_of = [this](timing_wheel::entry_id id) {
            const peer_record& p = peers_[id];
            return p.scheduled ? widen(p.wheel_due, wheel_.current()) : timing_wheel::unscheduled;
        };
        auto prefetch = [this](timing_wheel::entry_id id) { __builtin_prefetch(&peers_[id], 1); };
        auto expire = [&](timing_wheel::entry_id id, timing_wheel::tick) {
            peer_record& p = peers_[id];
            p.scheduled = 0;
            const std::uint32_t due = deadline(p);
            const auto late = static_cast<std::int32_t>(t - due);
            if (late < 0) { // the deadline moved later since it was scheduled: re-arm lazily
                schedule(id, p,
                         now_tick + static_cast<std::uint64_t>(-static_cast<std::int64_t>(late)));
                return;
            }
            on_deadline(id, p, now_tick, static_cast<std::uint32_t>(late), now, sink);
        };
        return wheel_.advance(now_tick, due_of, expire, prefetch);
    }

    // When advance() has work next (time_point::max() when no peer is monitored). A fired entry
    // may turn out stale (its peer heard from meanwhile); it then costs one re-link.
    time_point next_event() const noexcept {
        const timing_wheel::tick t = wheel_.next_event();
        if (t == timing_wheel::unscheduled)
            return time_point::max();
        return origin_ + static_cast<std::int64_t>(t) * tick_length;
    }

    // Queries take ids below capacity().
    peer_state state(peer_id id) const noexcept { return peers_[id].public_state(); }
    unsigned missed(peer_id id) const noexcept { return peers_[id].missed; }
    // When the peer must next be looked at (heartbeat_monitor::next_deadline); max() if dead.
    time_point next_deadline(peer_id id) const noexcept;
    // The last proof of life, as it happened.
    time_point last_heard(peer_id id) const noexcept;
    std::size_t size() const noexcept { return size_; }
    std::size_t capacity() const noexcept { return peers_.size(); }
    // Heap bytes held, for the memory figures: the records, the wheel's nodes and its heads.
    std::size_t footprint_bytes() const noexcept;

private:
    template <class Sink>
    void on_deadline(peer_id id, peer_record& p, timing_wheel::tick now_tick, std::uint32_t late,
                     time_point now, Sink& sink) {
        const auto t = static_cast<std::uint32_t>(now_tick);
        if (late > stall_tolerance_) {
            // Our own process did not run for `late`: see heartbeat_monitor::on_timer.
            p.anchor += late;
            p.stalled += late;
            if (p.armed)
                p.armed_deadline += late;
            request_ping(id, p, t, now, sink);
        } else if (p.armed && reached(t, p.armed_deadline)) {
            p.armed = 0;
            if (p.missed < 255) // saturates; max_missed is at most 255
                ++p.missed;
            if (p.missed < max_missed_)
                request_ping(id, p, t, now, sink);
        } else if (!p.armed && reached(t, p.anchor + p.jittered_interval) &&
                   p.missed < max_missed_) {
            request_ping(id, p, t, now, sink);
        }
        finish(id, p, now_tick, now, sink);
    }

    template <class Sink>
    void request_ping(peer_id id, peer_record& p, std::uint32_t t, time_point now, Sink& sink) {
        ++p.last_seq;
        p.armed = 1;
        p.armed_deadline = t + pong_timeout_;
        p.jittered_interval = jittered_interval();
        peer_action a;
        a.peer = id;
        a.kind = peer_action_kind::send_ping;
        a.seq = p.last_seq;
        a.at = now;
        sink(static_cast<const peer_action&>(a));
    }

    // heartbeat_monitor::finish with the missed-count detector: judge, then re-arm the wheel
    // (eagerly when the deadline moved earlier, lazily when it moved later).
    template <class Sink>
    void finish(peer_id id, peer_record& p, timing_wheel::tick now_tick, time_point now,
                Sink& sink) {
        const auto t = static_cast<std::uint32_t>(now_tick);
        const auto before = p.state;
        if (p.missed == 0)
            p.state = peer_record::alive;
        else if (p.missed >= max_missed_ && reached(t, p.anchor + budget_))
            p.state = peer_record::dead;
        else
            p.state = peer_record::suspect;
        if (p.state != before) {
            peer_action a;
            a.peer = id;
            a.at = now;
            a.missed = p.missed;
            a.kind = p.state == peer_record::alive     ? peer_action_kind::alive
                     : p.state == peer_record::suspect ? peer_action_kind::suspect
                                                       : peer_action_kind::dead;
            if (p.state == peer_record::dead) {
                a.silence = milliseconds(t - (p.anchor - p.stalled));
                a.stalled = milliseconds(p.stalled);
            }
            sink(static_cast<const peer_action&>(a));
        }
        if (p.state == peer_record::dead) {
            p.scheduled = 0; // its copy in the wheel is now stale
            return;
        }
        const timing_wheel::tick at = widen(deadline(p), now_tick);
        if (!p.scheduled || at < widen(p.wheel_due, now_tick))
            schedule(id, p, at);
    }

    void schedule(peer_id id, peer_record& p, timing_wheel::tick at) {
        p.wheel_due = static_cast<std::uint32_t>(wheel_.schedule(id, at));
        p.scheduled = 1;
    }

    void proof_of_life(peer_record& p, std::uint32_t t) noexcept {
        p.anchor = t;
        p.stalled = 0;
        p.missed = 0;
        p.armed = 0;
    }

    // The peer's next deadline (heartbeat_monitor::next_deadline while alive or suspect).
    std::uint32_t deadline(const peer_record& p) const noexcept {
        const bool verdict_pending = p.missed >= max_missed_;
        if (p.armed) {
            if (verdict_pending && reached(p.armed_deadline, p.anchor + budget_))
                return p.anchor + budget_;
            return p.armed_deadline;
        }
        return verdict_pending ? p.anchor + budget_ : p.anchor + p.jittered_interval;
    }

    // a is at or after b, modulo 2^32.
    static bool reached(std::uint32_t a, std::uint32_t b) noexcept {
        return static_cast<std::int32_t>(a - b) >= 0;
    }
    timing_wheel::tick to_tick(time_point now) const noexcept {
        if (now <= origin_)
            return 0;
        return static_cast<timing_wheel::tick>((now - origin_) / tick_length);
    }
    // The full tick of a 32-bit one at most 2^31 ticks from `base`.
    static timing_wheel::tick widen(std::uint32_t t, timing_wheel::tick base) noexcept {
        const auto offset = static_cast<std::int32_t>(t - static_cast<std::uint32_t>(base));
        const auto wide = static_cast<std::int64_t>(base) + offset;
        return wide < 0 ? 0 : static_cast<timing_wheel::tick>(wide);
    }
    std::uint32_t jittered_interval() noexcept;

    static constexpr std::uint32_t no_peer = 0xffffffffu;
    std::vector<peer_record> peers_;
    timing_wheel wheel_;
    time_point origin_;
    std::uint32_t interval_;
    std::uint32_t pong_timeout_;
    std::uint32_t budget_;
    std::uint32_t stall_tolerance_;
    std::uint8_t max_missed_;
    double jitter_;
    liveness_mode liveness_;
    std::uint64_t rng_state_;
    std::uint32_t free_head_ = no_peer;
    std::size_t size_ = 0;
};

} // namespace heartbeat
