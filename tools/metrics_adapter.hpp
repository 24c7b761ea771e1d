#pragma once
// The one place `/metrics` comes from, so wiring in the library's metrics (issue 15) is a few
// lines here and nowhere else.
//
// Today: the interim renderer over the CLI's status board (interim_metrics.hpp).
// After the merge of heartbeat::metrics:
//   * hold `std::shared_ptr<heartbeat::metrics::registry> registry_ =
//     std::make_shared<heartbeat::metrics::registry>();`
//   * attach(config): `config.metrics = registry_;` (client_config, server_config, and the
//     websocket_server_config's sessions as the library defines it)
//   * prometheus(): `return heartbeat::metrics::render_prometheus(registry_->snapshot());`
//   * delete interim_metrics.{hpp,cpp}.
#include "status_board.hpp"

#include <heartbeat/client/client_config.hpp>
#include <heartbeat/server/server_config.hpp>
#include <heartbeat/server/websocket_server_config.hpp>

#include <string>

namespace heartbeat::cli {

class metrics_adapter {
public:
    explicit metrics_adapter(const status_board& board) : board_(board) {}

    // Lets the library record into our registry (no-op until heartbeat::metrics exists).
    void attach(client_config&) {}
    void attach(server_config&) {}
    void attach(websocket_server_config&) {}

    // Prometheus text exposition format 0.0.4.
    std::string prometheus() const;

private:
    const status_board& board_;
};

} // namespace heartbeat::cli
