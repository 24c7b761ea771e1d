#pragma once
// server_frontend<Adapter>: the public face every server shares (basic_server, websocket_server
// derive from it). It owns the server's core and holds nothing else, so the core stays out of
// the public headers; its members are compiled once per protocol, in that server's .cpp
// (server_frontend_impl.hpp).
#include <heartbeat/server/server_types.hpp>
#include <heartbeat/session/session_events.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <memory>
#include <optional>

namespace heartbeat {

template <class Adapter>
class server_core;

template <class Adapter>
class server_frontend {
public:
    using endpoint_type = typename Adapter::protocol_type::endpoint;
    using config_type = typename Adapter::config_type;

    // Binds and listens immediately, so local_endpoint() is valid after construction (port 0
    // picks a free port). Throws boost::system::system_error if the endpoint cannot be bound.
    server_frontend(boost::asio::io_context& ioc, const endpoint_type& endpoint,
                    config_type config = {}, server_callbacks callbacks = {});
    // Closes the server. On an io_context that is stopped, also closes the listener and every
    // peer's connection at once, since nothing will run there any more.
    ~server_frontend();
    server_frontend(const server_frontend&) = delete;
    server_frontend& operator=(const server_frontend&) = delete;

    endpoint_type local_endpoint() const;

    // Accepts peers until close() or cancellation; completes with the reason (operation_aborted
    // after close()). Signature: void(boost::system::error_code). Call once.
    // Cancellation: through the handler's cancellation slot, any type (terminal, partial, total):
    // it does what close() does, so every session is closed and the operation completes with
    // operation_aborted. Emit the signal where the handler runs (its associated executor, or the
    // io_context's thread when it has none): the slot is cleared there before the handler runs.
    // Executor: completes on the handler's associated executor (default: the server's strand),
    // never inline. Lifetime: destroying the server closes it; the operation still completes
    // (operation_aborted) if the io_context runs on.
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

    // Stops accepting and closes every session (each tells its peer: CLOSE, or a close frame
    // 1000). Any thread.
    void close();

    server_stats stats() const;

    // Per-peer session stats (nullopt if that peer is gone). Any thread.
    std::optional<session_stats> peer_stats(std::uint64_t peer_id) const;

protected:
    server_core<Adapter>& core() const noexcept { return *core_; }

private:
    void start_run(boost::asio::any_completion_handler<void(boost::system::error_code)> handler);
    std::shared_ptr<server_core<Adapter>> core_;
};

} // namespace heartbeat
