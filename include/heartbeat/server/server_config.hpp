#pragma once
// Configuration of the native heartbeat server (basic_server: tcp_server, unix_server).
#include <heartbeat/protocol/native/session_config.hpp>

#include <cstddef>
#include <memory>

namespace heartbeat {

struct server_config {
    session_config session{};
    std::size_t max_sessions = 10000; // further peers are accepted and closed at once
    bool echo = true;                 // answer each DATA message with the same message
    // Observability (docs/observability.md): used by every session that has none of its own
    // (session.metrics, session.log). Series per peer host: role="server", protocol="native",
    // peer="HOST"; beyond the registry's max_peer_series hosts, peer="_other".
    std::shared_ptr<metrics::registry> metrics;
    log_sink log;
};

} // namespace heartbeat
