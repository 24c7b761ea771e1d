#pragma once
// How every session tells the application what a heartbeat-monitor step found: the callback
// first (on the session's executor), then the same fact as an awaitable event. Shared so that
// the native and the WebSocket session report identically.
#include <heartbeat/core/heartbeat_monitor.hpp>
#include <heartbeat/session/session_events.hpp>

#include <utility>

namespace heartbeat::detail {

// Local stall, RTT sample and state change, in that order. `push_event(session_event)` queues
// an event for async_wait_event.
template <class PushEvent>
void report_progress(const monitor_step& step, peer_state before, const heartbeat_monitor& monitor,
                     const session_callbacks& callbacks, PushEvent&& push_event) {
    if (step.stall_lag > duration::zero()) {
        if (callbacks.on_local_stall)
            callbacks.on_local_stall(step.stall_lag);
        session_event e;
        e.kind = session_event_kind::local_stall;
        e.value = step.stall_lag;
        push_event(std::move(e));
    }
    if (step.rtt) {
        if (callbacks.on_rtt)
            callbacks.on_rtt(*step.rtt, monitor.rtt());
        session_event e;
        e.kind = session_event_kind::rtt_sample;
        e.value = *step.rtt;
        push_event(std::move(e));
    }
    if (step.state_changed) {
        if (callbacks.on_state_change)
            callbacks.on_state_change(before, step.state, monitor.missed());
        session_event e;
        e.kind = session_event_kind::state_changed;
        e.from = before;
        e.to = step.state;
        e.missed = monitor.missed();
        push_event(std::move(e));
    }
}

// The verdict, when the step has one; reported after the stats were published, so a verdict
// callback that reads stats() sees the final state.
template <class PushEvent>
void report_verdict(const monitor_step& step, const session_callbacks& callbacks,
                    PushEvent&& push_event) {
    if (!step.dead)
        return;
    if (callbacks.on_verdict)
        callbacks.on_verdict(*step.dead);
    session_event e;
    e.kind = session_event_kind::verdict;
    e.dead = step.dead;
    e.missed = step.dead->missed;
    push_event(std::move(e));
}

} // namespace heartbeat::detail
