#pragma once
// `heartbeat watch ENDPOINT...`: heartbeat one or more servers and report what happens.
#include "session_options.hpp"

#include <string>
#include <vector>

namespace heartbeat::cli {

struct watch_args {
    std::vector<std::string> endpoints;
    heartbeat_flags heartbeat;
    std::string run_for; // empty: until SIGINT/SIGTERM
    bool json = false;
};

// Returns the exit status; throws usage_error for bad arguments before anything starts.
int run_watch(const watch_args& args);

} // namespace heartbeat::cli
