#pragma once
// One fault on a streaming session, start to finish: wait until messages flow, inject the
// fault, wait for the client's session to end (a verdict, or a close when the fault is loud),
// hold the fault a while (the supervisor keeps trying meanwhile), restore, wait for the
// reconnect and a clean resend buffer, stop the client and count every sequence number.
#include "fault_figures.hpp"
#include "fault_rig.hpp"

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

namespace heartbeat::netns {

struct drill_plan {
    std::string fault;
    bool expect_verdict = true; // false: the session ends with `closed` (e.g. a killed server)
    std::chrono::milliseconds hold{1500}; // how long the fault lasts after the session ended
    std::function<void()> inject;
    std::function<void()> restore;
};

// Runs the plan; throws std::runtime_error (naming the step) when an expected event never
// comes. `sinks` may grow during restore (a restarted server). recovery_ms is restore ->
// connected.
fault_figures run_drill(watch_process& client, std::vector<std::unique_ptr<sink_process>>& sinks,
                        const heartbeat_timing& timing, const drill_plan& plan);

} // namespace heartbeat::netns
