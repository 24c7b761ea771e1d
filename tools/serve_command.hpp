#pragma once
// `heartbeat serve`: a heartbeat echo server that reports its peers' fate, speaking the native
// protocol (default) or WebSocket (--protocol ws).
#include "session_options.hpp"

#include <optional>
#include <string>

namespace heartbeat::cli {

struct serve_args {
    std::string listen = "127.0.0.1:7000";
    std::string protocol = "native"; // "native" or "ws"
    heartbeat_flags heartbeat;
    // --protocol ws only: serve wss:// with this PEM certificate chain and private key.
    std::string tls_cert;
    std::string tls_key;
    std::optional<std::string> http; // --http HOST:PORT: status page and /metrics; unset: none
    bool json = false;
};

enum class serve_protocol { native, ws };

// --protocol: "native" or "ws". Throws usage_error("--protocol", ...) otherwise.
serve_protocol parse_serve_protocol(const std::string& text);

// Returns the exit status; throws usage_error for bad arguments before anything starts.
int run_serve(const serve_args& args);

} // namespace heartbeat::cli
