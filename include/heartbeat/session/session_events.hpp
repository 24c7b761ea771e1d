#pragma once
// What a session reports: callbacks, awaitable events and the stats snapshot.
#include <heartbeat/core/heartbeat_monitor.hpp>
#include <heartbeat/core/rtt_estimator.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <functional>
#include <string>

namespace heartbeat {

// All callbacks run on the session's executor (its strand), never concurrently with each other.
struct session_callbacks {
    std::function<void(peer_state from, peer_state to, unsigned missed)> on_state_change;
    std::function<void(duration rtt, const rtt_estimator& estimator)> on_rtt;
    std::function<void(const verdict& v)> on_verdict;
    std::function<void(duration lag)> on_local_stall;
    // The peer has delivered every message of ours up to sequence number `delivered_seq`.
    std::function<void(std::uint64_t delivered_seq)> on_ack;
    // The heartbeat interval changed (HELLO negotiation, SLOW_DOWN).
    std::function<void(duration interval)> on_interval;
};

// A received application message and its sequence number in the logical session (numbered
// from 1 by the sender, stable across reconnects, so receivers can deduplicate).
struct received_message {
    std::uint64_t seq = 0;
    std::string payload;
};

enum class session_event_kind { state_changed, rtt_sample, verdict, local_stall, interval, ended };
const char* to_string(session_event_kind k) noexcept;

struct session_event {
    session_event_kind kind = session_event_kind::state_changed;
    peer_state from = peer_state::connecting;
    peer_state to = peer_state::connecting;
    unsigned missed = 0;
    duration value{};                 // rtt (rtt_sample), lag (local_stall), interval (interval)
    std::optional<verdict> dead;      // verdict
    boost::system::error_code reason; // ended
};

struct session_stats {
    peer_state state = peer_state::connecting;
    unsigned missed = 0;
    duration interval{};     // agreed heartbeat interval
    duration pong_timeout{}; // effective
    rtt_snapshot rtt{};
    monitor_counters heartbeat{};
    std::uint64_t bytes_sent = 0;
    std::uint64_t bytes_received = 0;
    std::uint64_t frames_sent = 0;
    std::uint64_t frames_received = 0;
    std::uint64_t messages_sent = 0;      // fully written to the transport
    std::uint64_t messages_received = 0;  // fully reassembled and delivered
    std::uint64_t duplicates_dropped = 0; // resent messages already delivered (resume)
    std::uint64_t delivered_seq = 0;      // highest sequence number delivered (what we ACK)
    std::uint64_t peer_acked = 0;         // highest sequence number of ours the peer delivered
    std::uint64_t pings_answered = 0;     // peer's pings we answered
    std::uint64_t ping_strikes = 0;
    std::uint64_t slow_downs_sent = 0;
    std::uint64_t slow_downs_received = 0;
    std::uint64_t events_dropped = 0;
    std::size_t queued_send_bytes = 0;
    std::size_t queued_receive_bytes = 0;
};

} // namespace heartbeat
