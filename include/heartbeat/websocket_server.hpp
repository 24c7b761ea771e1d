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
#include <heartbeat/server/server_types.hpp>
#include <heartbeat/server/websocket_server_config.hpp>
#include <heartbeat/websocket_session.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <string>

namespace heartbeat {

class websocket_server {
public:
    using endpoint_type = boost::asio::ip::tcp::endpoint;

    // Binds and listens immediately, so local_endpoint() is valid after construction (port 0
    // picks a free port). Throws boost::system::system_error if the endpoint cannot be bound
    // and invalid_argument if the session config is invalid.
    //
    // callbacks.on_message receives each message as received_message: its seq is the
    // message's number on that connection (1, 2, ...); WebSocket has no logical session across
    // reconnects. When on_message is unset and echo is on, messages are echoed.
    websocket_server(boost::asio::io_context& ioc, const endpoint_type& endpoint,
                     websocket_server_config config = {}, server_callbacks callbacks = {});
    ~websocket_server();
    websocket_server(const websocket_server&) = delete;
    websocket_server& operator=(const websocket_server&) = delete;

    endpoint_type local_endpoint() const;

    // Accepts peers until close() or cancellation; completes with the reason (operation_aborted
    // after close()). Signature: void(boost::system::error_code). Never completes inline.
    template <class CompletionToken =
                  boost::asio::default_completion_token_t<boost::asio::any_io_executor>>
    auto async_run(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [this](auto handler) {
                start_run(boost::asio::any_completion_handler<void(boost::system::error_code)>(
                    std::move(handler)));
            },
            token);
    }

    // Sends a message to one peer; false if that peer is gone. Any thread.
    bool send_to(std::uint64_t peer_id, std::string message,
                 websocket_message_kind kind = websocket_message_kind::binary);

    // Stops accepting and closes every session (each sends a close frame, 1000). Any thread.
    void close();

    server_stats stats() const;

    // Per-peer session stats (nullopt if that peer is gone). Any thread.
    std::optional<session_stats> peer_stats(std::uint64_t peer_id) const;

private:
    struct state;
    void start_run(boost::asio::any_completion_handler<void(boost::system::error_code)> handler);
    std::shared_ptr<state> state_;
};

} // namespace heartbeat
