#pragma once
// The figures each fault test measured, printed as one table row when recorded (ctest runs
// every test in its own process) and as the whole table when the binary ends (scripts/
// netns-test.sh runs them all in one process); these rows go to docs/reliability.md.
#include "fault_rig.hpp"

#include <cstdint>
#include <optional>
#include <string>

namespace heartbeat::netns {

struct fault_figures {
    std::string fault;
    std::string ending;                    // "dead" (the client's verdict) or "closed <reason>"
    std::optional<std::int64_t> silent_ms; // the verdict's silence, when it was a verdict
    int budget_ms = 0;
    std::int64_t fault_to_ending_ms = 0; // harness clock, fault injected -> event read
    std::string recovery;                // "reconnect", "failover", "failback"
    std::int64_t recovery_ms = 0;        // see each test: from ending or restore to connected
    delivery_summary delivery;
};

void record_figures(const fault_figures& f);

} // namespace heartbeat::netns
