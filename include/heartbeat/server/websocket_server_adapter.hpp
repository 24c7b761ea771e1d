#pragma once
// How WebSocket plugs into server_core (see there for the adapter's members): an accepted
// connection first completes the TLS handshake (when configured) and the HTTP request, all
// bounded by handshake_timeout; a plain request is answered from http_pages, an upgrade over
// max_sessions with 503, any other upgrade becomes a ws_session or wss_session. Messages are
// websocket_message; the echo keeps their kind (text or binary).
#include <heartbeat/protocol/websocket/websocket_session.hpp>
#include <heartbeat/server/peer_session_config.hpp>
#include <heartbeat/server/websocket_server_config.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/websocket/stream_fwd.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace heartbeat {

template <class Adapter>
class server_core;

class websocket_server_adapter {
public:
    using protocol_type = boost::asio::ip::tcp;
    using config_type = websocket_server_config;
    // ws:// or, with config.tls, wss://.
    using session_ptr = std::variant<std::unique_ptr<ws_session>, std::unique_ptr<wss_session>>;
    using core_type = server_core<websocket_server_adapter>;

    // Throws std::invalid_argument, naming the field, when the session config is invalid.
    explicit websocket_server_adapter(websocket_server_config config);

    const websocket_server_config& config() const noexcept { return config_; }

    // Runs the handshake on the connection's strand, then core->admit(websocket, address).
    void on_accepted(const std::shared_ptr<core_type>& core, boost::asio::ip::tcp::socket socket,
                     std::string address) const;

    template <class NextLayer>
    std::unique_ptr<websocket_session<NextLayer>>
    make_session(boost::beast::websocket::stream<NextLayer> ws, session_callbacks callbacks,
                 std::string_view address) const {
        if (!detail::observed(config_.session))
            return std::make_unique<websocket_session<NextLayer>>(
                std::move(ws), shared_session_config_, std::move(callbacks));
        return std::make_unique<websocket_session<NextLayer>>(
            std::move(ws), detail::labelled_for_peer(config_.session, "ws", address),
            std::move(callbacks));
    }

    template <class Session, class CompletionToken>
    static auto async_receive(Session& session, CompletionToken&& token) {
        return session.async_receive(std::forward<CompletionToken>(token));
    }

    // WebSocket has no logical session across reconnects: seq numbers the connection's messages.
    static received_message to_received_message(websocket_message message) {
        return received_message{message.seq, std::move(message.payload)};
    }

    template <class Session, class CompletionToken>
    static auto async_echo(Session& session, websocket_message message, CompletionToken&& token) {
        return session.async_send(std::move(message.payload), message.kind,
                                  std::forward<CompletionToken>(token));
    }

    static void close_transport(ws_session& session);
    static void close_transport(wss_session& session);

private:
    websocket_server_config config_;
    // What every unobserved session runs with: one copy for all (observed ones are labelled
    // with their peer's address, so each has its own).
    std::shared_ptr<const websocket_session_config> shared_session_config_;
};

} // namespace heartbeat
