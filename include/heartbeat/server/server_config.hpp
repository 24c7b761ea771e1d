#pragma once
// Configuration of the native heartbeat server (basic_server: tcp_server, unix_server).
#include <heartbeat/protocol/native/session_config.hpp>

#include <cstddef>

namespace heartbeat {

struct server_config {
    session_config session{};
    std::size_t max_sessions = 10000; // further peers are accepted and closed at once
    bool echo = true;                 // answer each DATA message with the same message
};

} // namespace heartbeat
