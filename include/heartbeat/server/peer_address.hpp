#pragma once
// How a server names a peer in peer_info::address.
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <string>

namespace heartbeat::detail {

// "HOST:PORT", "[V6]:PORT", or the Unix socket path ("unix:peer" for an unnamed peer).
std::string peer_address(const boost::asio::ip::tcp::endpoint& ep);
std::string peer_address(const boost::asio::local::stream_protocol::endpoint& ep);

} // namespace heartbeat::detail
