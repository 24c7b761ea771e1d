#pragma once
// Configuration of the client supervisor. Plain aggregate with documented defaults.
#include <heartbeat/config.hpp>
#include <heartbeat/session_config.hpp>

namespace heartbeat {

class reconnect_budget;

struct give_up_rule {
    unsigned max_attempts = 0; // consecutive failed attempts since the last session; 0 = never
    duration max_downtime = duration::zero(); // time without a session; 0 = never
};

struct client_config {
    session_config session{};           // per connection (its session_id/first_seq are managed)
    backoff_config backoff{};           // between rounds in which every endpoint failed
    endpoint_policy_config endpoints{}; // failover order, failback rule
    duration resolve_timeout = seconds(5);
    duration connect_timeout = seconds(5);
    give_up_rule give_up{};
    // Bounded resend buffer: messages stay until the peer ACKs them; async_send waits while it
    // is full (back-pressure, never a silent drop).
    std::size_t max_unacked_messages = 65536;
    std::size_t max_unacked_bytes = 64u << 20;
    // Failback probes of more preferred endpoints while on a less preferred one.
    duration probe_interval = milliseconds(500);
    duration probe_timeout = seconds(2);
    // Before failing back, stop feeding the current session and wait this long at most for its
    // ACKs, so nothing is delivered twice by the switch.
    duration failback_drain_timeout = seconds(2);
    // nullptr = reconnect_budget::process_wide(). Applies to reconnects, not the first connect.
    reconnect_budget* budget = nullptr;
    bool use_reconnect_budget = true;
};

std::optional<config_error> validate(const client_config& c);

} // namespace heartbeat
