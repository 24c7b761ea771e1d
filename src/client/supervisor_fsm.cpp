#include <heartbeat/client/supervisor_fsm.hpp>

#include <heartbeat/core/error.hpp>
#include <heartbeat/core/reconnect_budget.hpp>
#include <heartbeat/core/saturating_time.hpp>

#include <boost/asio/error.hpp>

#include <utility>
#include <variant>

namespace heartbeat {

using boost::system::error_code;
namespace sv = supervisor;

namespace {

reconnect_budget* budget_of(const client_config& c) {
    if (!c.use_reconnect_budget)
        return nullptr;
    return c.budget ? c.budget : &reconnect_budget::process_wide();
}

} // namespace

const char* to_string(supervisor_fsm::state s) noexcept {
    switch (s) {
    case supervisor_fsm::state::idle:
        return "idle";
    case supervisor_fsm::state::connecting:
        return "connecting";
    case supervisor_fsm::state::running:
        return "running";
    case supervisor_fsm::state::backing_off:
        return "backing_off";
    case supervisor_fsm::state::budget_wait:
        return "budget_wait";
    case supervisor_fsm::state::finished:
        return "finished";
    }
    return "unknown";
}

supervisor_fsm::supervisor_fsm(std::vector<std::string> labels, const client_config& config,
                               uniform_source rng)
    : labels_(std::move(labels)), policy_(labels_.size(), config.endpoints),
      backoff_(config.backoff, std::move(rng)), budget_(budget_of(config)),
      give_up_(config.give_up, labels_.size()),
      probation_(config.probe_interval, config.failback_drain_timeout) {}

std::vector<sv::action> supervisor_fsm::resume(time_point now, const sv::input& in) {
    now_ = now;
    std::visit([&](const auto& i) { on(now, i); }, in);
    if (state_ != state::finished)
        sync_timer(now);
    return std::exchange(out_, {});
}

// --- inputs ----------------------------------------------------------------------------------

void supervisor_fsm::on(time_point now, const sv::start&) {
    if (state_ != state::idle)
        return;
    give_up_.start(now);
    down_since_ = now;
    if (stop_)
        return finish(stop_);
    begin_attempt(now);
}

void supervisor_fsm::on(time_point now, const sv::connect_done& in) {
    if (state_ != state::connecting)
        return;
    if (stop_)
        return finish(stop_); // abandoned: no `closed`, whatever the connect produced is dropped
    const std::size_t ep = policy_.current();
    if (in.ec) {
        ++counters_.connect_failures;
        client_event e = event(client_event_kind::closed, ep);
        e.reason = in.ec;
        emit(std::move(e));
        return attempt_ended(now, in.ec, false);
    }
    policy_.on_connected(now);
    if (ever_connected_)
        counters_.downtime += now - down_since_;
    ever_connected_ = true;
    ++counters_.sessions;
    counters_.connected = true;
    counters_.endpoint = ep;
    state_ = state::running;
    session_started_ = now;
    established_ = false;
    closing_ = false;
    probation_.start(now);
    act(sv::start_session{ep});
    evaluate_failback(now);
}

void supervisor_fsm::on(time_point, const sv::session_state_changed& in) {
    if (state_ != state::running)
        return;
    const std::size_t ep = policy_.current();
    if (in.from == peer_state::connecting) {
        // A session, not just a connection the peer dropped: the handshake is done.
        established_ = true;
        emit(event(client_event_kind::connected, ep));
    }
    if (in.to != peer_state::suspect && in.to != peer_state::alive)
        return;
    client_event e = event(
        in.to == peer_state::suspect ? client_event_kind::suspect : client_event_kind::alive, ep);
    e.missed = in.missed;
    emit(std::move(e));
}

void supervisor_fsm::on(time_point, const sv::session_rtt& in) {
    if (state_ != state::running)
        return;
    client_event e = event(client_event_kind::rtt, policy_.current());
    e.rtt = in.rtt;
    e.srtt = in.srtt;
    emit(std::move(e));
}

void supervisor_fsm::on(time_point, const sv::session_verdict& in) {
    if (state_ != state::running)
        return;
    ++counters_.verdicts;
    client_event e = event(client_event_kind::dead, policy_.current());
    e.dead = in.dead;
    e.missed = in.dead.missed;
    e.reason = in.dead.reason;
    emit(std::move(e));
}

void supervisor_fsm::on(time_point now, const sv::session_ended& in) {
    if (state_ != state::running)
        return;
    const std::size_t ep = policy_.current();
    down_since_ = now;
    counters_.connected = false;
    backoff_.on_session_lived(now - session_started_);
    client_event closed = event(client_event_kind::closed, ep);
    closed.reason = in.reason;
    emit(std::move(closed));
    if (stop_)
        return finish(stop_);
    if (const auto to = probation_.switching_to()) {
        // Drained for a failback (or ended while draining): switch, whatever ended it.
        give_up_.on_failback(established_, now);
        policy_.on_failback(*to, now);
        ++counters_.failbacks;
        emit(switch_event(client_event_kind::failback, ep, *to));
        return begin_attempt(now);
    }
    attempt_ended(now, in.reason, established_);
}

void supervisor_fsm::on(time_point now, const sv::drained&) {
    if (state_ != state::running)
        return;
    probation_.on_drained();
    evaluate_failback(now);
}

void supervisor_fsm::on(time_point now, const sv::probe_done& in) {
    if (state_ != state::running)
        return;
    if (const auto probed = probation_.take_probe_result(in.probe)) {
        policy_.on_probe_result(*probed, in.healthy, now);
        evaluate_failback(now);
    }
}

void supervisor_fsm::on(time_point now, const sv::timer_fired&) {
    armed_ = time_point::max();
    switch (state_) {
    case state::backing_off:
        if (now >= wait_deadline_)
            begin_attempt(now);
        break;
    case state::budget_wait:
        if (now >= wait_deadline_)
            attempt_now();
        break;
    case state::running:
        evaluate_failback(now);
        break;
    default:
        break;
    }
}

void supervisor_fsm::on(time_point, const sv::close_requested&) {
    if (stop_ || state_ == state::finished)
        return;
    stop_ = error::session_closed;
    stop(false);
}

void supervisor_fsm::on(time_point, const sv::cancel_requested&) {
    if (state_ == state::finished)
        return;
    if (!stop_)
        stop_ = boost::asio::error::operation_aborted;
    stop(true); // even a session already closing: at once now
}

// Ends what is in progress: a connect or a wait at once, the session with a flush unless
// `at_once`. Idle: start finishes at once.
void supervisor_fsm::stop(bool at_once) {
    switch (state_) {
    case state::connecting:
        act(sv::abort_connect{}); // nothing to flush yet
        break;
    case state::running:
        if (at_once)
            act(sv::cancel_session{});
        else if (!closing_)
            act(sv::close_session{});
        closing_ = true;
        break;
    case state::backing_off:
    case state::budget_wait:
        finish(stop_);
        break;
    default:
        break;
    }
}

// --- decisions -------------------------------------------------------------------------------

// Every attempt but the first waits for a token of the reconnect budget.
void supervisor_fsm::begin_attempt(time_point now) {
    if (attempt_ > 0 && budget_) {
        if (const duration wait = budget_->reserve(now); wait > duration::zero()) {
            state_ = state::budget_wait;
            wait_deadline_ = saturating_add(now, wait);
            return;
        }
    }
    attempt_now();
}

void supervisor_fsm::attempt_now() {
    ++attempt_;
    ++counters_.attempts;
    const std::size_t ep = policy_.current();
    client_event e = event(client_event_kind::connecting, ep);
    e.attempt = attempt_;
    emit(std::move(e));
    state_ = state::connecting;
    act(sv::connect{ep});
}

void supervisor_fsm::attempt_ended(time_point now, const error_code& reason, bool established) {
    if (const auto give_up = give_up_.on_attempt_ended(reason, established, now)) {
        client_event e;
        e.kind = client_event_kind::gave_up;
        e.reason = *give_up;
        emit(std::move(e));
        return finish(*give_up);
    }
    const std::size_t from = policy_.current();
    const std::size_t to = policy_.on_failure(now);
    if (to != from) {
        ++counters_.failovers;
        emit(switch_event(client_event_kind::failover, from, to));
    }
    if (!policy_.round_exhausted())
        return begin_attempt(now);
    // Every endpoint failed in a row: back off before the next round. A session that lived
    // backoff.reset_after reset the base, so after a long healthy session this costs at most
    // `initial` (fully jittered), which also de-synchronises a fleet that lost the same server.
    const duration delay = backoff_.next_delay();
    client_event e;
    e.kind = client_event_kind::reconnecting;
    e.attempt = attempt_;
    e.delay = delay;
    emit(std::move(e));
    state_ = state::backing_off;
    wait_deadline_ = saturating_add(now, delay);
}

void supervisor_fsm::evaluate_failback(time_point now) {
    if (closing_)
        return;
    probation_.evaluate(now, policy_, out_);
    if (probation_.drain_over(now)) {
        closing_ = true;
        act(sv::close_session{});
    }
}

void supervisor_fsm::finish(const error_code& reason) {
    state_ = state::finished;
    armed_ = time_point::max();
    act(sv::finish{reason});
}

// Arms the one timer for what the state waits for next, when that changed.
void supervisor_fsm::sync_timer(time_point now) {
    time_point wanted = time_point::max();
    if (state_ == state::backing_off || state_ == state::budget_wait)
        wanted = wait_deadline_;
    else if (state_ == state::running && !closing_)
        wanted = probation_.next_wake(now, policy_);
    if (wanted == armed_)
        return;
    armed_ = wanted;
    act(sv::wait_until{wanted});
}

void supervisor_fsm::emit(client_event e) {
    e.at = now_;
    act(sv::emit{std::move(e)});
}

client_event supervisor_fsm::event(client_event_kind kind, std::size_t endpoint) const {
    client_event e;
    e.kind = kind;
    e.endpoint = labels_[endpoint];
    return e;
}

client_event supervisor_fsm::switch_event(client_event_kind kind, std::size_t from,
                                          std::size_t to) const {
    client_event e;
    e.kind = kind;
    e.from = labels_[from];
    e.to = labels_[to];
    return e;
}

} // namespace heartbeat
