#pragma once
// One monitored peer's state inside peer_monitor_table, packed: times are 32-bit millisecond
// ticks of the table's clock, compared modulo 2^32. 28 bytes (32 aligned); the timing wheel adds
// 8 bytes per copy of the peer's id in a slot (one live, sometimes one stale).
#include <heartbeat/core/heartbeat_monitor.hpp>

#include <cstdint>

namespace heartbeat {

// Aligned to 32 bytes so a record never straddles two cache lines: one miss per visit.
struct alignas(32) peer_record {
    enum : std::uint8_t { unused, alive, suspect, dead };

    std::uint32_t anchor = 0;            // last proof of life, shifted forward by forgiven stalls;
                                         // while unused: the next unused record (free list)
    std::uint32_t stalled = 0;           // forgiven stall since the last proof of life (ticks)
    std::uint32_t armed_deadline = 0;    // the armed ping's reply deadline
    std::uint32_t jittered_interval = 0; // this quiet period's interval, resampled each ping
    std::uint32_t last_seq = 0;          // the last ping requested; the armed one when armed
    std::uint32_t wheel_due = 0;         // the tick the timing wheel holds it for, if scheduled
    std::uint8_t state = unused;
    std::uint8_t missed = 0;    // consecutive unanswered pings
    std::uint8_t armed = 0;     // a ping's reply deadline is running
    std::uint8_t scheduled = 0; // wheel_due is live (copies of the id in other slots are stale)

    bool monitored() const noexcept { return state == alive || state == suspect; }
    peer_state public_state() const noexcept {
        switch (state) {
        case alive:
            return peer_state::alive;
        case suspect:
            return peer_state::suspect;
        case dead:
            return peer_state::dead;
        default:
            return peer_state::connecting;
        }
    }
};
static_assert(sizeof(peer_record) == 32, "keep the per-peer state small: see peer_monitor_table");

} // namespace heartbeat
