#pragma once
// What the client supervisor reports, as callbacks and as awaitable events.
#include <heartbeat/core/heartbeat_monitor.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace heartbeat {

enum class client_event_kind {
    connecting,   // endpoint, attempt
    connected,    // endpoint
    suspect,      // endpoint, missed
    alive,        // endpoint (recovered from suspect)
    rtt,          // endpoint, rtt, srtt
    dead,         // endpoint, verdict
    closed,       // endpoint, reason (every session or attempt that ends)
    reconnecting, // attempt, delay
    failover,     // from, to
    failback,     // from, to
    gave_up,      // reason
};
const char* to_string(client_event_kind k) noexcept;

struct client_event {
    client_event_kind kind = client_event_kind::connecting;
    std::string endpoint; // label of the endpoint concerned
    std::string from, to; // failover / failback
    unsigned attempt = 0;
    unsigned missed = 0;
    duration delay{};
    duration rtt{}, srtt{};
    std::optional<verdict> dead;
    boost::system::error_code reason;
    // When the client decided the event, on its clock: the next attempt after `reconnecting`
    // starts no earlier than at + delay, whatever delays the callback that reports it.
    time_point at{};
};

// Called on the client's executor for every event; the same events are queued for
// client::async_wait_event.
using client_event_callback = std::function<void(const client_event&)>;

struct client_stats {
    std::string endpoint; // current (or last) endpoint label
    bool connected = false;
    std::uint64_t sessions = 0; // sessions established
    std::uint64_t attempts = 0; // connection attempts
    std::uint64_t connect_failures = 0;
    std::uint64_t verdicts = 0; // peer_dead verdicts
    std::uint64_t failovers = 0;
    std::uint64_t failbacks = 0;
    duration downtime{}; // total time without an established session (after the first)
    std::uint64_t messages_accepted = 0; // async_send completions
    std::uint64_t messages_acked = 0;    // highest sequence number the peers acknowledged
    std::uint64_t messages_resent = 0;   // re-sent after a reconnect
    std::uint64_t messages_received = 0;
    std::size_t unacked = 0;
    std::uint64_t events_dropped = 0; // the oldest queued event, dropped at event_queue_capacity
};

} // namespace heartbeat
