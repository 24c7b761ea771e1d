#pragma once
// INTERIM -- TO BE REPLACED BY THE LIBRARY RENDERER (issue 15).
//
// Until heartbeat::metrics (include/heartbeat/metrics/registry.hpp) is merged, `/metrics` is
// rendered here from the CLI's own event stream (the status_board), with the family names the
// library will produce, so dashboards and the Prometheus test work today. Once the library is
// in, metrics_adapter.cpp calls heartbeat::metrics::render_prometheus(reg->snapshot()) instead
// and this file is deleted.
//
// What the event stream cannot know is approximated: pings_sent_total = pongs received +
// pongs missed (a ping still in flight is not counted yet).
#include "status_board.hpp"

#include <string>

namespace heartbeat::cli {

// Prometheus text exposition format 0.0.4.
std::string render_interim_prometheus(const status_board& board);

} // namespace heartbeat::cli
