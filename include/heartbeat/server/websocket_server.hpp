#pragma once
// websocket_server: an accept loop on a TCP endpoint that upgrades each connection to a
// WebSocket (Beast's async_accept) and runs one websocket_session per peer, each on its own
// strand, with a session limit, the same per-peer callbacks and stats as basic_server, and an
// echo of every message (with its kind) by default.
//
// Plain HTTP on the same port: a request that is not a WebSocket upgrade is answered from
// `http_pages` (GET/HEAD of a listed target: 200 with that body; anything else: 404), then the
// connection is closed. This serves the page of a browser client, or a health check, without a
// second listener.
//
// TLS (wss://): with `tls` set, every connection first completes the TLS handshake (server
// role, with that context's certificate), then the same HTTP upgrade, inside one
// handshake_timeout; its sessions are wss_session.
//
// The accept loop, the limit, the peers and their stats are the server core's, shared with
// basic_server (server/server_core.hpp); the handshake and the sessions are WebSocket's
// (server/websocket_server_adapter.hpp).
#include <heartbeat/protocol/websocket/websocket_session.hpp>
#include <heartbeat/server/server_frontend.hpp>
#include <heartbeat/server/server_types.hpp>
#include <heartbeat/server/websocket_server_adapter.hpp>
#include <heartbeat/server/websocket_server_config.hpp>

#include <cstdint>
#include <string>

namespace heartbeat {

class websocket_server : public server_frontend<websocket_server_adapter> {
public:
    // websocket_server(io_context& ioc, const endpoint_type& endpoint,
    //                  websocket_server_config config = {}, server_callbacks callbacks = {}):
    // binds and listens immediately, so local_endpoint() is valid after construction (port 0
    // picks a free port). Throws boost::system::system_error if the endpoint cannot be bound
    // and invalid_argument if the session config is invalid.
    //
    // callbacks.on_message receives each message as received_message: its seq is the
    // message's number on that connection (1, 2, ...); WebSocket has no logical session across
    // reconnects. When on_message is unset and echo is on, messages are echoed.
    //
    // async_run, close, stats, peer_stats: see server_frontend.
    using server_frontend<websocket_server_adapter>::server_frontend;

    // Sends a message to one peer; false if that peer is gone. Any thread.
    bool send_to(std::uint64_t peer_id, std::string message,
                 websocket_message_kind kind = websocket_message_kind::binary);
};

extern template class server_frontend<websocket_server_adapter>;

} // namespace heartbeat
