#include <heartbeat/core/heartbeat_monitor.hpp>

#include <heartbeat/core/error.hpp>
#include <heartbeat/core/missed_count_detector.hpp>
#include <heartbeat/core/phi_accrual_detector.hpp>

#include <algorithm>

namespace heartbeat {

const char* to_string(peer_state s) noexcept {
    switch (s) {
    case peer_state::connecting:
        return "connecting";
    case peer_state::alive:
        return "alive";
    case peer_state::suspect:
        return "suspect";
    case peer_state::dead:
        return "dead";
    }
    return "unknown";
}

heartbeat_monitor::heartbeat_monitor(const monitor_config& config, uniform_source rng)
    : config_(config), rng_(std::move(rng)), missed_detector_(config.max_missed, duration::zero()) {
    if (config_.detector == detector_kind::phi_accrual)
        phi_ = std::make_unique<phi_accrual_detector>(config_.phi);
    else
        missed_detector_.set_budget(budget());
    resample_interval();
}

heartbeat_monitor::~heartbeat_monitor() = default;
heartbeat_monitor::heartbeat_monitor(heartbeat_monitor&&) noexcept = default;
heartbeat_monitor& heartbeat_monitor::operator=(heartbeat_monitor&&) noexcept = default;

duration heartbeat_monitor::pong_timeout() const noexcept {
    if (config_.adaptive_pong_timeout && rtt_.samples() > 0)
        return rtt_.rto(config_.pong_timeout_floor);
    return config_.pong_timeout;
}

duration heartbeat_monitor::budget() const noexcept {
    return config_.interval + config_.max_missed * pong_timeout();
}

void heartbeat_monitor::refresh_budget() {
    if (!phi_)
        missed_detector_.set_budget(budget());
}

void heartbeat_monitor::resample_interval() {
    if (config_.jitter <= 0.0 || !rng_) {
        jittered_interval_ = config_.interval;
        return;
    }
    const double factor = 1.0 + config_.jitter * (2.0 * rng_() - 1.0);
    jittered_interval_ = std::chrono::duration_cast<duration>(config_.interval * factor);
}

void heartbeat_monitor::set_interval(duration interval, time_point now) {
    config_.interval = interval;
    resample_interval();
    refresh_budget();
    schedule_rtt_probe();
    if (state_ == peer_state::alive || state_ == peer_state::suspect) {
        monitor_step ignored;
        finish(now, ignored);
    }
}

heartbeat_monitor::ping_record* heartbeat_monitor::find(std::uint64_t seq) noexcept {
    ping_record& slot = in_flight_[seq % in_flight_.size()];
    return slot.seq == seq ? &slot : nullptr;
}

void heartbeat_monitor::schedule_rtt_probe() noexcept {
    rtt_probe_due_ =
        config_.probe_rtt_under_traffic && config_.liveness == liveness_mode::any_inbound
            ? last_ping_request_ + config_.interval
            : time_point::max();
}

// Traffic other than pongs proved life since the last round trip was measured (an idle peer's
// pongs alone never trigger a probe: its regular pings measure already).
bool heartbeat_monitor::rtt_probe_wanted(time_point now) const noexcept {
    return now >= rtt_probe_due_ && anchor_ > last_rtt_sample_;
}

void heartbeat_monitor::request_ping(time_point now, monitor_step& step) {
    const std::uint64_t seq = ++last_seq_;
    in_flight_[seq % in_flight_.size()] = ping_record{seq, now};
    armed_ = true;
    armed_seq_ = seq;
    // Until the driver reports the write, the deadline runs from the request (see header).
    armed_deadline_ = now + pong_timeout();
    if (unwritten_seq_ == 0) {
        unwritten_seq_ = seq;
        unwritten_since_ = now;
    }
    ++counters_.pings_sent;
    step.send_ping = seq;
    resample_interval();
    last_ping_request_ = now;
    schedule_rtt_probe();
}

void heartbeat_monitor::proof_of_life(time_point now, bool is_heartbeat_sample) {
    anchor_ = now;
    last_alive_real_ = now;
    stalled_since_alive_ = duration::zero();
    missed_ = 0;
    armed_ = false;
    if (is_heartbeat_sample)
        detector().record_alive(now);
    else
        detector().record_activity(now);
}

monitor_step heartbeat_monitor::start(time_point now) {
    monitor_step step;
    if (state_ != peer_state::connecting)
        return step;
    detector().reset(now);
    proof_of_life(now, false);
    last_ping_request_ = now;
    last_rtt_sample_ = now;
    schedule_rtt_probe();
    state_ = peer_state::alive;
    step.state_changed = true;
    finish(now, step);
    return step;
}

monitor_step heartbeat_monitor::on_inbound(time_point now) {
    monitor_step step;
    if (state_ == peer_state::connecting || state_ == peer_state::dead) {
        step.state = state_;
        return step;
    }
    if (config_.liveness == liveness_mode::any_inbound)
        proof_of_life(now, false);
    finish(now, step);
    return step;
}

monitor_step heartbeat_monitor::on_pong(std::uint64_t seq, time_point now) {
    monitor_step step;
    if (seq == 0 || seq > last_seq_) {
        step.error = error::unexpected_pong;
        step.state = state_;
        return step;
    }
    if (state_ == peer_state::connecting || state_ == peer_state::dead) {
        step.state = state_;
        return step;
    }
    ++counters_.pongs_received;
    if (unwritten_seq_ != 0 && seq >= unwritten_seq_)
        unwritten_seq_ = 0; // answered, so it was written (pings are written in order)
    if (ping_record* ping = find(seq)) {
        const duration sample = std::max(duration::zero(), now - ping->sent);
        rtt_.add_sample(sample);
        step.rtt = sample;
        last_rtt_sample_ = now;
        ping->seq = 0; // a duplicate pong must not measure twice
        refresh_budget();
    }
    if (!(armed_ && armed_seq_ == seq) && missed_ > 0)
        ++counters_.pongs_late;
    proof_of_life(now, true);
    finish(now, step);
    return step;
}

monitor_step heartbeat_monitor::on_rtt_sample(duration sample, time_point now) {
    monitor_step step;
    step.state = state_;
    if (state_ == peer_state::connecting || state_ == peer_state::dead || sample < duration::zero())
        return step;
    rtt_.add_sample(sample);
    step.rtt = sample;
    last_rtt_sample_ = now;
    // The round trip is measured: the probe, which exists to measure it, is due an interval
    // from here, so a steady stream of samples sends no pings at all.
    last_ping_request_ = now;
    schedule_rtt_probe();
    refresh_budget();
    finish(now, step);
    return step;
}

void heartbeat_monitor::on_ping_written(std::uint64_t seq, time_point now) {
    on_ping_written(seq, now, now);
}

void heartbeat_monitor::on_ping_written(std::uint64_t seq, time_point now,
                                        time_point write_started) {
    if (ping_record* ping = find(seq)) {
        // Never before the request: `sent` still holds the request time here.
        ping->sent = std::clamp(write_started, ping->sent, std::max(now, ping->sent));
    }
    // Pings are written in order: this one being out, every earlier one is too.
    const bool stall_cleared = unwritten_seq_ != 0 && seq >= unwritten_seq_;
    if (stall_cleared)
        unwritten_seq_ = 0;
    const bool rearm = armed_ && armed_seq_ == seq;
    if (rearm)
        armed_deadline_ = now + pong_timeout();
    if ((rearm || stall_cleared) &&
        (state_ == peer_state::alive || state_ == peer_state::suspect)) {
        monitor_step ignored;
        finish(now, ignored);
    }
}

monitor_step heartbeat_monitor::on_timer(time_point now) {
    monitor_step step;
    if (state_ != peer_state::alive && state_ != peer_state::suspect) {
        step.state = state_;
        return step;
    }
    if (now < next_deadline_) { // a stale timer: nothing is due yet
        step.state = state_;
        return step;
    }

    const duration lag = now - next_deadline_;
    if (lag > config_.stall_tolerance) {
        // Our own process did not run for `lag`: whatever the peer sent meanwhile is probably
        // sitting unread in the socket. Pretend the stalled time did not exist and ask again.
        anchor_ += lag;
        stalled_since_alive_ += lag;
        if (armed_)
            armed_deadline_ += lag;
        if (unwritten_seq_ != 0)
            unwritten_since_ += lag; // the writer could not run either
        detector().forgive(lag);
        ++counters_.stalls;
        counters_.stalled_total += lag;
        step.stall_lag = lag;
        request_ping(now, step);
        finish(now, step);
        return step;
    }

    if (armed_ && now >= armed_deadline_) {
        armed_ = false;
        ++missed_;
        ++counters_.misses;
        detector().record_missed(now);
        // Re-ping while the verdict is still open; under missed-count, the last miss only waits
        // for the budget to run out, so there is nothing more to ask.
        const bool verdict_pending = !phi_ && missed_ >= config_.max_missed;
        if (!verdict_pending)
            request_ping(now, step);
    } else if (!armed_ && now >= anchor_ + jittered_interval_ &&
               !(!phi_ && missed_ >= config_.max_missed)) {
        request_ping(now, step);
    } else if (!armed_ && state_ == peer_state::alive && rtt_probe_wanted(now)) {
        request_ping(now, step);
    }
    finish(now, step);
    return step;
}

time_point heartbeat_monitor::write_stall_deadline() const noexcept {
    return unwritten_since_ + budget();
}

void heartbeat_monitor::finish(time_point now, monitor_step& step) {
    const peer_state before = state_;
    const bool write_stalled = (state_ == peer_state::alive || state_ == peer_state::suspect) &&
                               unwritten_seq_ != 0 && now >= write_stall_deadline();
    if (write_stalled) {
        state_ = peer_state::dead;
    } else if (state_ == peer_state::alive || state_ == peer_state::suspect) {
        switch (detector().assess(now)) {
        case health::alive:
            state_ = peer_state::alive;
            break;
        case health::suspect:
            state_ = peer_state::suspect;
            break;
        case health::dead:
            state_ = peer_state::dead;
            break;
        }
    }
    if (state_ != before)
        step.state_changed = true;
    step.state = state_;

    if (state_ == peer_state::dead) {
        if (before != peer_state::dead) {
            verdict v;
            v.reason = write_stalled ? error::write_stalled : error::peer_dead;
            v.missed = missed_;
            v.silence = now - last_alive_real_;
            v.stalled = stalled_since_alive_;
            v.at = now;
            step.dead = v;
        }
        next_deadline_ = time_point::max();
        return;
    }

    time_point next = detector().next_change(now);
    if (armed_)
        next = std::min(next, armed_deadline_);
    else if (!(!phi_ && missed_ >= config_.max_missed))
        next = std::min(next, anchor_ + jittered_interval_);
    if (!armed_ && state_ == peer_state::alive && anchor_ > last_rtt_sample_)
        next = std::min(next, rtt_probe_due_);
    if (unwritten_seq_ != 0)
        next = std::min(next, write_stall_deadline());
    next_deadline_ = next;
}

} // namespace heartbeat
