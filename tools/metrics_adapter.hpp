#pragma once
// The one place `/metrics` comes from: the library's metrics registry (docs/observability.md),
// which the served or watched sessions, the client and the server report into.
#include <heartbeat/client/client_config.hpp>
#include <heartbeat/metrics/registry.hpp>
#include <heartbeat/server/server_config.hpp>
#include <heartbeat/server/websocket_server_config.hpp>

#include <memory>
#include <string>

namespace heartbeat::cli {

class metrics_adapter {
public:
    metrics_adapter() : registry_(metrics::registry::create()) {}

    // The client or server built from `config` records into this command's registry.
    void attach(client_config& config) { config.metrics = registry_; }
    void attach(server_config& config) { config.metrics = registry_; }
    void attach(websocket_server_config& config) { config.metrics = registry_; }

    // Prometheus text exposition format 0.0.4.
    std::string prometheus() const;

private:
    std::shared_ptr<metrics::registry> registry_;
};

} // namespace heartbeat::cli
