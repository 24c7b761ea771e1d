#pragma once
// HOST:PORT arguments. IPv6 literals are written in brackets ([::1]:7000) because their own
// colons would make the port ambiguous.
#include <cstdint>
#include <string>
#include <string_view>

namespace heartbeat::cli {

struct host_port {
    std::string host; // without brackets
    std::uint16_t port = 0;
};

// Throws std::invalid_argument with a message fit to follow "ARGUMENT: ". Port 0 is accepted
// only when `allow_port_zero` (listening: pick a free port).
host_port parse_host_port(std::string_view text, bool allow_port_zero);

// The inverse, bracketing IPv6 literals.
std::string format_host_port(std::string_view host, std::uint16_t port);

} // namespace heartbeat::cli
