#pragma once
// `watch`'s supervisor flags, kept as the text the user typed until make_client_config turns them
// (with the heartbeat flags) into a validated heartbeat::client_config. As in session_options,
// errors name the flag, not the library field, because the flag is what the user can fix.
#include "session_options.hpp"

#include <heartbeat/client/client_config.hpp>
#include <heartbeat/client/endpoint.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace heartbeat::cli {

struct supervisor_flags {
    // Fail back to a more preferred endpoint once it answers probes again. The library's default
    // is on; the tool's is off, so a watcher stays where it is unless asked to move.
    bool failback = false;
    std::string min_dwell = "10s";      // endpoint_policy_config.min_dwell
    std::string backoff_initial = "1s"; // backoff_config.initial
    std::string backoff_max = "2m";     // backoff_config.max
    std::string give_up_after;          // give_up_rule.max_downtime; empty: never give up
    // wss:// endpoints: PEM CA certificates to trust instead of the system's store, or no
    // verification at all (websocket_client_config::tls_context / verify_certificate).
    std::string ca_file;
    bool insecure = false;
};

// Throws usage_error naming the flag: first what make_session_config rejects, then what
// heartbeat::validate(client_config) rejects (the message ends with the library field).
client_config make_client_config(const heartbeat_flags& heartbeat, const supervisor_flags& sup);

// The ENDPOINT arguments, in order of preference; each keeps the text the user wrote as its
// label (that is what events report). Throws usage_error("ENDPOINT", ...).
std::vector<endpoint> make_endpoints(const std::vector<std::string>& args);

// --send-rate: messages per second, 0 (off) to max_send_rate. Throws std::invalid_argument with
// a message fit to follow "--send-rate: ".
inline constexpr unsigned max_send_rate = 100000;
unsigned parse_send_rate(std::string_view text);

} // namespace heartbeat::cli
