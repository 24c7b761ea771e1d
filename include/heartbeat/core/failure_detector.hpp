#pragma once
// The one interface behind which failure detectors sit. The monitor feeds evidence in and asks
// for an assessment; it owns ping scheduling, the detector owns the judgement.
#include <heartbeat/core/clock.hpp>

namespace heartbeat {

enum class health { alive, suspect, dead };

class failure_detector {
public:
    virtual ~failure_detector() = default;

    // The peer showed life (an inbound frame, or a pong in pong-only mode).
    virtual void record_alive(time_point now) = 0;
    // Other evidence of life that is not a heartbeat sample (application data in any_inbound
    // mode): it proves the peer alive but its timing says nothing about the heartbeat cadence,
    // so detectors that model inter-arrival times must not learn from it.
    virtual void record_activity(time_point now) { record_alive(now); }
    // A ping's reply deadline passed.
    virtual void record_missed(time_point now) = 0;
    // Shift internal timestamps forward: `lag` of our own process stall is not the peer's fault.
    virtual void forgive(duration lag) = 0;
    // Current judgement.
    virtual health assess(time_point now) const = 0;
    // Earliest time the judgement could change without new evidence; time_point::max() if only
    // new evidence can change it.
    virtual time_point next_change(time_point now) const = 0;
    // Start afresh (a new connection).
    virtual void reset(time_point now) = 0;
};

} // namespace heartbeat
