#pragma once
// The rules of the client supervisor (heartbeat::client) as a sans-io state machine, after
// Boost.Redis' detail/*_fsm: the driver feeds it an input (supervisor_inputs.hpp) with the time
// it happened and performs the actions it returns (supervisor_actions.hpp), one asynchronous
// operation per action. The machine touches no socket, timer or clock; every decision is here:
//
//   idle --start--> connecting --connect_done(ok)--> running (failback probes, drain)
//                     ^     | connect_done(error)          | session_ended
//                     |     v                              v
//                     |   the attempt ended: give up (-> finished), or fail over, back off
//                     |   when every endpoint failed in a row (-> backing_off), take a
//                     +-- reconnect-budget token (-> budget_wait) and connect again
//   close / cancel: -> finished, at once or once the connect or session in progress ended
//
//  * Failover (endpoint_policy): each failed attempt or ended session moves to the next endpoint
//    (a `failover` event when it changes); once every endpoint failed in a row, a back-off
//    (backoff: full jitter, reset by a session that lived backoff.reset_after) with a
//    `reconnecting` event before the next round, which starts at the most preferred endpoint.
//  * Reconnect budget: every attempt but the first takes a token (client_config::budget, or the
//    process-wide one; none when use_reconnect_budget is false) and waits as long as it says.
//  * Give-up (give_up_tracker): client_config::give_up and the fatal endings of is_fatal; a
//    `gave_up` event, then finish with the reason.
//  * Failback (failback_probation): on a less preferred endpoint, probes of the better ones; after
//    healthy_probes good probes and min_dwell, drain-before-switch, then a `failback` event and
//    a connect to the better endpoint.
//  * close / cancel: abandon a connect or a wait at once, close (flush) or cancel the session,
//    then finish with session_closed or operation_aborted.
//
// Events: connecting, connected (the session's handshake), suspect, alive, rtt, dead, closed
// (every attempt or session that ends, except a connect abandoned by close or cancel),
// reconnecting, failover, failback, gave_up. Not thread-safe: the driver serialises inputs.
#include <heartbeat/client/client_config.hpp>
#include <heartbeat/client/client_events.hpp>
#include <heartbeat/client/failback_probation.hpp>
#include <heartbeat/client/give_up_tracker.hpp>
#include <heartbeat/client/supervisor_actions.hpp>
#include <heartbeat/client/supervisor_inputs.hpp>
#include <heartbeat/core/backoff.hpp>
#include <heartbeat/core/clock.hpp>
#include <heartbeat/core/endpoint_policy.hpp>
#include <heartbeat/core/random.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

namespace heartbeat {

class reconnect_budget;

// What the supervisor counted; client_stats carries them.
struct supervisor_counters {
    std::uint64_t attempts = 0;         // connects started
    std::uint64_t connect_failures = 0; // connects that failed
    std::uint64_t sessions = 0;         // sessions started (connects that succeeded)
    std::uint64_t verdicts = 0;         // peer_dead verdicts
    std::uint64_t failovers = 0;
    std::uint64_t failbacks = 0;
    duration downtime{};                 // between a session's end and the next one's start
    bool connected = false;              // a session is running
    std::optional<std::size_t> endpoint; // of the running (or last) session
};

class supervisor_fsm {
public:
    enum class state {
        idle,        // before start
        connecting,  // a connect is in progress
        running,     // a session runs
        backing_off, // every endpoint failed in a row: waiting out the back-off
        budget_wait, // waiting for a token of the reconnect budget
        finished,    // finish was returned
    };

    // `labels` name the endpoints, most preferred first (the events carry them). Throws
    // std::invalid_argument when there is none. Precondition: validate(config) found nothing.
    // `rng` draws the back-off jitter (empty: default_uniform_source()).
    supervisor_fsm(std::vector<std::string> labels, const client_config& config,
                   uniform_source rng = {});

    // Takes one input that happened at `now` and returns the actions to perform, in order.
    std::vector<supervisor::action> resume(time_point now, const supervisor::input& in);

    state current_state() const noexcept { return state_; }
    // Set by close_requested or cancel_requested (the first of them names the reason).
    const boost::system::error_code& stop_reason() const noexcept { return stop_; }
    const supervisor_counters& counters() const noexcept { return counters_; }
    // The endpoint being connected to, in use, or next to try.
    std::size_t endpoint() const noexcept { return policy_.current(); }
    // The deadline of the timer as last armed (time_point::max(): disarmed).
    time_point timer() const noexcept { return armed_; }

private:
    void on(time_point now, const supervisor::start&);
    void on(time_point now, const supervisor::connect_done& in);
    void on(time_point now, const supervisor::session_state_changed& in);
    void on(time_point now, const supervisor::session_rtt& in);
    void on(time_point now, const supervisor::session_verdict& in);
    void on(time_point now, const supervisor::session_ended& in);
    void on(time_point now, const supervisor::drained&);
    void on(time_point now, const supervisor::probe_done& in);
    void on(time_point now, const supervisor::timer_fired&);
    void on(time_point now, const supervisor::close_requested&);
    void on(time_point now, const supervisor::cancel_requested&);

    void stop(bool at_once);
    void begin_attempt(time_point now);
    void attempt_now();
    void attempt_ended(time_point now, const boost::system::error_code& reason, bool established);
    void evaluate_failback(time_point now);
    void finish(const boost::system::error_code& reason);
    void sync_timer(time_point now);
    void emit(client_event e);
    template <class Action>
    void act(Action a) {
        out_.emplace_back(std::in_place_type<Action>, std::move(a));
    }
    client_event event(client_event_kind kind, std::size_t endpoint) const;
    client_event switch_event(client_event_kind kind, std::size_t from, std::size_t to) const;

    std::vector<std::string> labels_;
    endpoint_policy policy_;
    backoff backoff_;
    reconnect_budget* budget_; // nullptr: no budget
    give_up_tracker give_up_;
    failback_probation probation_;

    state state_ = state::idle;
    boost::system::error_code stop_;
    unsigned attempt_ = 0;       // connects started, numbering the `connecting` events
    time_point wait_deadline_{}; // backing_off, budget_wait
    time_point armed_ = time_point::max();
    // The running session.
    time_point session_started_{};
    bool established_ = false; // its handshake is done
    bool closing_ = false;     // close_session or cancel_session was returned
    // Downtime between sessions.
    bool ever_connected_ = false;
    time_point down_since_{};

    supervisor_counters counters_;
    std::vector<supervisor::action> out_;
    time_point now_{}; // of the input being handled: the time its events carry
};

const char* to_string(supervisor_fsm::state s) noexcept;

} // namespace heartbeat
