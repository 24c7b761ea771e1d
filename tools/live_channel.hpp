#pragma once
// The status page's /live WebSocket clients. Each one is a heartbeat ws_session over the socket
// the HTTP server upgraded, so the project watches its own dashboard: the session pings the
// browser (RFC 6455 ping/pong, answered by the browser itself) and a browser that vanishes
// (laptop lid closed, network gone, tab frozen with its process) is declared dead and dropped
// within the heartbeat's budget instead of holding a socket for hours.
//
// The channel sends each new client a snapshot, then every broadcast. A client that falls
// behind (more than max_unsent messages not yet written) is closed: it reconnects and starts
// again from a snapshot, which bounds the memory one slow browser can hold.
// Single-threaded: call everything on the io_context's thread.
#include <heartbeat/core/config.hpp>
#include <heartbeat/protocol/websocket/websocket_session.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <memory>
#include <string>

namespace heartbeat::cli {

class live_channel {
public:
    static constexpr std::size_t max_unsent = 16;

    live_channel(monitor_config heartbeat, std::size_t max_clients);
    ~live_channel();

    bool full() const noexcept { return clients_.size() >= max_clients_; }
    std::size_t size() const noexcept { return clients_.size(); }

    // Takes an upgraded WebSocket: runs a heartbeat session over it and sends `snapshot` first.
    void add(boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws,
             std::string snapshot);
    // Sends a text message to every client.
    void broadcast(const std::string& message);
    // Closes every client (close frame 1000); size() reaches 0 once their sessions ended.
    void close();

private:
    struct client {
        std::unique_ptr<ws_session> session;
        std::size_t unsent = 0;
        bool ending = false;
    };
    using client_list = std::list<client>;

    void send(client_list::iterator it, std::string message);
    void drain(client_list::iterator it);

    websocket_session_config config_;
    std::size_t max_clients_;
    client_list clients_;
    // Completions that outlive the channel (it is destroyed after io_context::run returned)
    // find it gone through this flag instead of touching freed memory.
    std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

} // namespace heartbeat::cli
