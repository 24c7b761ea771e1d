#pragma once
// The config a server gives the session of one peer: its own session config, labelled for the
// peer when the server reports metrics or logs (role="server", the protocol, peer=the peer's
// host, without the port, so reconnects of one host share one series and the registry's
// max_peer_series bounds the hosts, not the connections).
#include <heartbeat/core/log_sink.hpp>
#include <heartbeat/metrics/series_labels.hpp>

#include <memory>
#include <string>
#include <string_view>

namespace heartbeat::metrics {
class registry;
} // namespace heartbeat::metrics

namespace heartbeat::detail {

// "10.0.0.1:5000" -> "10.0.0.1", "[::1]:5000" -> "::1"; a Unix path stays as it is.
std::string peer_host(std::string_view address);

// The server-wide fields fill the session's when it has none of its own.
template <class SessionConfig>
void adopt_server_observability(SessionConfig& session,
                                const std::shared_ptr<metrics::registry>& metrics,
                                const log_sink& log) {
    if (!session.metrics)
        session.metrics = metrics;
    if (!session.log)
        session.log = log;
}

template <class SessionConfig>
bool observed(const SessionConfig& c) noexcept {
    return c.metrics || c.log;
}

// A copy of `base` labelled for the peer at `address`.
template <class SessionConfig>
SessionConfig labelled_for_peer(const SessionConfig& base, const char* protocol,
                                std::string_view address) {
    SessionConfig c = base;
    auto labels = std::make_shared<metrics::series_labels>(
        c.metrics_labels ? *c.metrics_labels : metrics::series_labels{});
    labels->role = "server";
    if (labels->protocol.empty())
        labels->protocol = protocol;
    labels->peer = peer_host(address);
    c.metrics_labels = std::move(labels);
    return c;
}

} // namespace heartbeat::detail
