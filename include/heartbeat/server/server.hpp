#pragma once
// basic_server<Protocol>: an accept loop on a TCP or Unix-domain endpoint that runs one
// heartbeat session per peer, each on its own strand, with a session limit, per-peer callbacks
// and aggregated stats. A misbehaving peer (garbage, oversize frame, ping flood, a half-sent
// frame held open, a frozen host) ends only its own session, with a named reason.
//
// The accept loop, the limit, the peers and their stats are the server core's, shared with
// websocket_server (server/server_core.hpp); this class adds only what is native: its sessions.
#include <heartbeat/protocol/native/native_session.hpp>
#include <heartbeat/server/native_server_adapter.hpp>
#include <heartbeat/server/server_config.hpp>
#include <heartbeat/server/server_frontend.hpp>
#include <heartbeat/server/server_types.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>

#include <cstdint>
#include <string>

namespace heartbeat {

template <class Protocol>
class basic_server : public server_frontend<native_server_adapter<Protocol>> {
public:
    using protocol_type = Protocol;
    using endpoint_type = typename Protocol::endpoint;

    // basic_server(io_context& ioc, const endpoint_type& endpoint, server_config config = {},
    //              server_callbacks callbacks = {}):
    // binds and listens immediately, so local_endpoint() is valid after construction (port 0
    // picks a free port). Throws boost::system::system_error if the endpoint cannot be bound.
    // async_run, close, stats, peer_stats: see server_frontend.
    using server_frontend<native_server_adapter<Protocol>>::server_frontend;

    // Sends a message to one peer; false if that peer is gone. Any thread.
    bool send_to(std::uint64_t peer_id, std::string message);
};

using tcp_server = basic_server<boost::asio::ip::tcp>;
using unix_server = basic_server<boost::asio::local::stream_protocol>;

extern template class server_frontend<native_server_adapter<boost::asio::ip::tcp>>;
extern template class server_frontend<native_server_adapter<boost::asio::local::stream_protocol>>;
extern template class basic_server<boost::asio::ip::tcp>;
extern template class basic_server<boost::asio::local::stream_protocol>;

} // namespace heartbeat
