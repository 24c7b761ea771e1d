#pragma once
// The monitor configuration the fake-clock tests of heartbeat_monitor and peer_monitor_table
// share, so both machines are checked against the same timeline.
#include <heartbeat/core/config.hpp>

namespace heartbeat::test {

inline monitor_config base_config() {
    using namespace std::chrono_literals;
    monitor_config c;
    c.interval = 1000ms;
    c.jitter = 0.0;
    c.pong_timeout = 500ms;
    c.max_missed = 3;
    c.stall_tolerance = 100ms;
    return c; // budget = 1000 + 3 * 500 = 2500 ms
}

} // namespace heartbeat::test
