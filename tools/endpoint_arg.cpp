#include "endpoint_arg.hpp"

#include "usage_error.hpp"

#include <stdexcept>

namespace heartbeat::cli {

host_port parse_host_port(std::string_view text, bool allow_port_zero) {
    const char* const bad_port =
        allow_port_zero ? "port must be a number in 0..65535" : "port must be a number in 1..65535";
    const auto reject = [&](const char* why) -> host_port {
        throw std::invalid_argument("invalid address " + quote_arg(text) + " (" + why + ")");
    };
    const auto colon = text.rfind(':');
    if (colon == std::string_view::npos)
        return reject("use HOST:PORT, e.g. 127.0.0.1:7000 or [::1]:7000");
    std::string_view host = text.substr(0, colon);
    const std::string_view port_text = text.substr(colon + 1);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    else if (host.find(':') != std::string_view::npos)
        return reject("write IPv6 addresses in brackets, e.g. [::1]:7000");
    if (host.empty())
        return reject("missing host; use HOST:PORT");
    if (port_text.empty() || port_text.size() > 5)
        return reject(bad_port);
    unsigned port = 0;
    for (char c : port_text) {
        if (c < '0' || c > '9')
            return reject(bad_port);
        port = port * 10 + static_cast<unsigned>(c - '0');
    }
    if (port > 65535 || (port == 0 && !allow_port_zero))
        return reject(bad_port);
    return host_port{std::string(host), static_cast<std::uint16_t>(port)};
}

std::string format_host_port(std::string_view host, std::uint16_t port) {
    std::string out;
    if (host.find(':') != std::string_view::npos)
        out.append("[").append(host).append("]");
    else
        out.append(host);
    return out + ":" + std::to_string(port);
}

} // namespace heartbeat::cli
