#include "metrics_adapter.hpp"

#include "interim_metrics.hpp" // INTERIM: replaced by heartbeat::metrics::render_prometheus

namespace heartbeat::cli {

std::string metrics_adapter::prometheus() const {
    return render_interim_prometheus(board_);
}

} // namespace heartbeat::cli
