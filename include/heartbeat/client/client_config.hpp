#pragma once
// Configuration of the client supervisor. Plain aggregate with documented defaults.
#include <heartbeat/core/config.hpp>
#include <heartbeat/protocol/native/session_config.hpp>

#include <cstddef>
#include <memory>

namespace boost::asio::ssl {
class context;
} // namespace boost::asio::ssl

namespace heartbeat {

class reconnect_budget;

struct give_up_rule {
    unsigned max_attempts = 0; // consecutive failed attempts since the last session; 0 = never
    duration max_downtime = duration::zero(); // time without a session; 0 = never
};

// How the supervisor speaks to ws:// and wss:// endpoints. The heartbeat itself (interval,
// pong timeout, misses, liveness, detector), the handshake and close timeouts, message and
// receive-buffer limits and TCP keepalive come from client_config::session, as for native
// endpoints; only what is WebSocket-specific is here.
struct websocket_client_config {
    // Outgoing messages go out as frames of at most this many bytes, so a ping waits for at
    // most one frame (websocket_session_config::fragment_size).
    std::size_t fragment_size = 64u * 1024;
    // wss://: the TLS context. nullptr: one made per client for TLS 1.2 or later, trusting the
    // system's default CA paths. Either way the server name is sent (SNI, for host names) and,
    // with verify_certificate, the certificate chain is verified and must match the endpoint's
    // host (a name, or an IP address in its subjectAltName).
    std::shared_ptr<boost::asio::ssl::context> tls_context;
    // false: accept any certificate (self-signed test servers). The connection is still
    // encrypted, but not authenticated: never in production.
    bool verify_certificate = true;
    // The User-Agent header of the upgrade request.
    std::string user_agent = "heartbeat";
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
    websocket_client_config websocket{}; // ws:// and wss:// endpoints
    // Events kept for async_wait_event while nobody waits; beyond it the oldest goes (counted in
    // client_stats::events_dropped). 0: none are kept, for an application that takes every event
    // through the on_event callback and never calls async_wait_event.
    std::size_t event_queue_capacity = 1024;
    // Observability (docs/observability.md). `metrics`: one series per endpoint, labelled
    // role="client", protocol (from the scheme) and endpoint (its label); its sessions report
    // their heartbeat there too (null = off; session.metrics is used when this is null).
    // `log`: every client event but RTT samples, and an invalid config (empty = silent); the
    // sessions' own records go to session.log.
    std::shared_ptr<metrics::registry> metrics;
    log_sink log;
};

std::optional<config_error> validate(const client_config& c);

} // namespace heartbeat
