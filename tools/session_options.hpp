#pragma once
// The heartbeat flags shared by `serve` and `watch`, kept as the text the user typed until
// make_session_config turns them into a validated session_config. Errors name the flag, not the
// library field, because the flag is what the user can fix.
#include <heartbeat/protocol/native/session_config.hpp>

#include <string>

namespace heartbeat::cli {

struct heartbeat_flags {
    std::string interval = "1s";
    std::string timeout = "1s";
    std::string misses = "3";
    std::string jitter = "0.1";
    std::string min_interval = "0ms";
};

// Throws usage_error naming the flag (and the session_config field when heartbeat::validate
// rejects the combination).
session_config make_session_config(const heartbeat_flags& flags);

// Throws std::invalid_argument with a message fit to follow "--flag: ".
unsigned parse_count(std::string_view text);
double parse_fraction(std::string_view text);

} // namespace heartbeat::cli
