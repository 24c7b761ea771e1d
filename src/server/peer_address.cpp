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
