#pragma once
// `heartbeat serve`: a heartbeat echo server that reports its peers' fate.
#include "session_options.hpp"

#include <string>

namespace heartbeat::cli {

struct serve_args {
    std::string listen = "127.0.0.1:7000";
    heartbeat_flags heartbeat;
    bool json = false;
};

// Returns the exit status; throws usage_error for bad arguments before anything starts.
int run_serve(const serve_args& args);

} // namespace heartbeat::cli
