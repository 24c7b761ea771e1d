#include <heartbeat/server/peer_address.hpp>

namespace heartbeat::detail {

std::string peer_address(const boost::asio::ip::tcp::endpoint& ep) {
    const auto addr = ep.address();
    if (addr.is_v6())
        return "[" + addr.to_string() + "]:" + std::to_string(ep.port());
    return addr.to_string() + ":" + std::to_string(ep.port());
}

std::string peer_address(const boost::asio::local::stream_protocol::endpoint& ep) {
    return ep.path().empty() ? std::string("unix:peer") : ep.path();
}

} // namespace heartbeat::detail

#include <heartbeat/server/peer_session_config.hpp>

namespace heartbeat::detail {

std::string peer_host(std::string_view address) {
    if (address.starts_with('[')) {
        const auto close = address.find(']');
        if (close != std::string_view::npos)
            return std::string(address.substr(1, close - 1));
    }
    const auto colon = address.rfind(':');
    if (colon == std::string_view::npos || address.find(':') != colon ||
        colon + 1 == address.size())
        return std::string(address);
    for (char c : address.substr(colon + 1))
        if (c < '0' || c > '9')
            return std::string(address); // "unix:peer", a path with a colon
    return std::string(address.substr(0, colon));
}

} // namespace heartbeat::detail
