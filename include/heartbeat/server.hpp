#pragma once
// basic_server<Protocol>: an accept loop on a TCP or Unix-domain endpoint that runs one
// heartbeat session per peer, each on its own strand, with a session limit, per-peer callbacks
// and aggregated stats. A misbehaving peer (garbage, oversize frame, ping flood, a half-sent
// frame held open, a frozen host) ends only its own session, with a named reason.
#include <heartbeat/server/server_config.hpp>
#include <heartbeat/server/server_types.hpp>
#include <heartbeat/session.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

namespace heartbeat {

template <class Protocol>
class basic_server {
public:
    using protocol_type = Protocol;
    using endpoint_type = typename Protocol::endpoint;

    // Binds and listens immediately, so local_endpoint() is valid after construction (port 0
    // picks a free port). Throws boost::system::system_error if the endpoint cannot be bound.
    basic_server(boost::asio::io_context& ioc, const endpoint_type& endpoint,
                 server_config config = {}, server_callbacks callbacks = {});
    ~basic_server();
    basic_server(const basic_server&) = delete;
    basic_server& operator=(const basic_server&) = delete;

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
    bool send_to(std::uint64_t peer_id, std::string message);

    // Stops accepting and closes every session (each sends CLOSE). Any thread.
    void close();

    server_stats stats() const;

private:
    struct state;
    void start_run(boost::asio::any_completion_handler<void(boost::system::error_code)> handler);
    std::shared_ptr<state> state_;
};

using tcp_server = basic_server<boost::asio::ip::tcp>;
using unix_server = basic_server<boost::asio::local::stream_protocol>;

extern template class basic_server<boost::asio::ip::tcp>;
extern template class basic_server<boost::asio::local::stream_protocol>;

} // namespace heartbeat
