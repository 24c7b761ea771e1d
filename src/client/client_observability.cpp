// heartbeat::client's observability: the series of its endpoints (reconnects, failovers,
// failbacks, state; its sessions report their heartbeat there themselves) and its log records.
// See docs/observability.md.
#include "client_impl.hpp"

#include <heartbeat/core/error.hpp>
#include <heartbeat/core/log_sink.hpp>

#include <string>

namespace heartbeat {

namespace {

// The labels of an endpoint's series: the session's protocol by scheme (TLS or not).
metrics::series_labels client_series_labels(const endpoint& e) {
    const char* protocol = "native";
    switch (e.scheme) {
    case endpoint_scheme::native:
        protocol = "native";
        break;
    case endpoint_scheme::ws:
    case endpoint_scheme::wss:
        protocol = "ws";
        break;
    case endpoint_scheme::redis:
    case endpoint_scheme::rediss:
        protocol = "resp";
        break;
    case endpoint_scheme::mqtt:
    case endpoint_scheme::mqtts:
        protocol = "mqtt";
        break;
    case endpoint_scheme::line:
    case endpoint_scheme::lines:
        protocol = "line";
        break;
    }
    return {"client", protocol, e.label, ""};
}

} // namespace

void client::impl::register_endpoint_series() {
    for (const auto& e : endpoints) {
        endpoint_labels.push_back(
            std::make_shared<const metrics::series_labels>(client_series_labels(e)));
        endpoint_series.push_back(&config.metrics->resolve(*endpoint_labels.back()));
    }
}

metrics::series* client::impl::series_of(const std::string& label) const noexcept {
    for (std::size_t i = 0; i < endpoint_series.size(); ++i)
        if (endpoints[i].label == label)
            return endpoint_series[i];
    return nullptr;
}

// The client's part of the metrics (the sessions report their heartbeat themselves) and its
// log records. RTT events are neither: they come with every pong.
void client::impl::observe(const client_event& e) {
    if (e.kind == client_event_kind::rtt)
        return;
    if (!endpoint_series.empty()) {
        if (e.kind == client_event_kind::connecting) {
            if (auto* s = series_of(e.endpoint)) {
                if (first_attempt_seen)
                    s->add_reconnects(1);
                s->set_state(metrics::endpoint_state::connecting);
            }
            first_attempt_seen = true;
        } else if (e.kind == client_event_kind::failover) {
            if (auto* s = series_of(e.from))
                s->add_failovers(1);
        } else if (e.kind == client_event_kind::failback) {
            if (auto* s = series_of(e.to))
                s->add_failbacks(1);
        }
    }
    if (!config.log)
        return;
    const bool bad = e.kind == client_event_kind::dead || e.kind == client_event_kind::failover ||
                     e.kind == client_event_kind::gave_up;
    const std::string attempt = e.attempt ? std::to_string(e.attempt) : std::string();
    const std::string missed = e.missed ? std::to_string(e.missed) : std::string();
    const std::string delay = e.delay > duration::zero() ? config_value_text(e.delay) : "";
    const std::string silence = e.dead ? config_value_text(e.dead->silence) : "";
    log_to(config.log, bad ? log_level::warning : log_level::info, to_string(e.kind),
           {{"role", "client"},
            {"endpoint", e.endpoint},
            {"from", e.from},
            {"to", e.to},
            {"attempt", attempt},
            {"missed", missed},
            {"delay", delay},
            {"silence", silence},
            {"reason", e.reason ? error_name(e.reason) : ""}});
}

} // namespace heartbeat
