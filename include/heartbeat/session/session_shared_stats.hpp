#pragma once
// The stats of a running session, readable from any thread (session::stats()) while the session
// updates them on its executor: relaxed atomics for the per-frame counters, a mutex for the
// rarely-changing rest (state, RTT), updated only when they change.
#include <heartbeat/detail/single_writer_counter.hpp>
#include <heartbeat/session/session_events.hpp>

#include <atomic>
#include <cstdint>
#include <mutex>

namespace heartbeat::detail {

struct session_shared_stats {
    std::atomic<std::uint64_t> bytes_sent{0}, bytes_received{0}, frames_sent{0}, frames_received{0},
        messages_sent{0}, messages_received{0}, duplicates_dropped{0}, delivered_seq{0},
        peer_acked{0}, pings_answered{0}, ping_strikes{0}, slow_downs_sent{0},
        slow_downs_received{0}, events_dropped{0};
    std::atomic<std::size_t> queued_send_bytes{0}, queued_receive_bytes{0};
    mutable std::mutex mutex;
    peer_state state = peer_state::connecting;
    unsigned missed = 0;
    duration interval{};
    duration pong_timeout{};
    rtt_snapshot rtt{};
    monitor_counters heartbeat{};

    session_stats snapshot() const {
        session_stats s;
        s.bytes_sent = bytes_sent.load(std::memory_order_relaxed);
        s.bytes_received = bytes_received.load(std::memory_order_relaxed);
        s.frames_sent = frames_sent.load(std::memory_order_relaxed);
        s.frames_received = frames_received.load(std::memory_order_relaxed);
        s.messages_sent = messages_sent.load(std::memory_order_relaxed);
        s.messages_received = messages_received.load(std::memory_order_relaxed);
        s.duplicates_dropped = duplicates_dropped.load(std::memory_order_relaxed);
        s.delivered_seq = delivered_seq.load(std::memory_order_relaxed);
        s.peer_acked = peer_acked.load(std::memory_order_relaxed);
        s.pings_answered = pings_answered.load(std::memory_order_relaxed);
        s.ping_strikes = ping_strikes.load(std::memory_order_relaxed);
        s.slow_downs_sent = slow_downs_sent.load(std::memory_order_relaxed);
        s.slow_downs_received = slow_downs_received.load(std::memory_order_relaxed);
        s.events_dropped = events_dropped.load(std::memory_order_relaxed);
        s.queued_send_bytes = queued_send_bytes.load(std::memory_order_relaxed);
        s.queued_receive_bytes = queued_receive_bytes.load(std::memory_order_relaxed);
        std::lock_guard lock(mutex);
        s.state = state;
        s.missed = missed;
        s.interval = interval;
        s.pong_timeout = pong_timeout;
        s.rtt = rtt;
        s.heartbeat = heartbeat;
        return s;
    }
};

} // namespace heartbeat::detail
