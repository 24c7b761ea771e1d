#pragma once
// `heartbeat watch ENDPOINT...`: one logical connection through heartbeat::client, with the
// endpoints as an ordered failover list (the first is the most preferred); reports what the
// supervisor sees and, with --send-rate, how messages are delivered.
#include "client_options.hpp"
#include "session_options.hpp"

#include <optional>
#include <string>
#include <vector>

namespace heartbeat::cli {

struct watch_args {
    std::vector<std::string> endpoints;
    heartbeat_flags heartbeat;
    supervisor_flags supervisor;
    std::string send_rate = "0";     // messages per second; 0: heartbeats only
    std::string run_for;             // empty: until SIGINT/SIGTERM
    std::optional<std::string> http; // --http HOST:PORT: status page and /metrics; unset: none
    bool json = false;
};

// Returns the exit status: 0 after SIGINT/SIGTERM or --for, 1 when the client gave up
// (--give-up-after) or failed. Throws usage_error for bad arguments before anything starts.
int run_watch(const watch_args& args);

} // namespace heartbeat::cli
