#include "metrics_adapter.hpp"

#include <heartbeat/metrics/render.hpp>

namespace heartbeat::cli {

std::string metrics_adapter::prometheus() const {
    return metrics::render_prometheus(registry_->snapshot());
}

} // namespace heartbeat::cli
