#pragma once
// The members of server_frontend<Adapter>; included by the .cpp that instantiates a server.
#include <heartbeat/server/server_core.hpp>
#include <heartbeat/server/server_frontend.hpp>

#include <utility>

namespace heartbeat {

template <class Adapter>
server_frontend<Adapter>::server_frontend(boost::asio::io_context& ioc,
                                          const endpoint_type& endpoint, config_type config,
                                          server_callbacks callbacks)
    : core_(std::make_shared<server_core<Adapter>>(ioc, endpoint, Adapter(std::move(config)),
                                                   std::move(callbacks))) {}

template <class Adapter>
server_frontend<Adapter>::~server_frontend() {
    core_->close_for_destruction();
}

template <class Adapter>
typename server_frontend<Adapter>::endpoint_type server_frontend<Adapter>::local_endpoint() const {
    return core_->local_endpoint();
}

template <class Adapter>
void server_frontend<Adapter>::start_run(
    boost::asio::any_completion_handler<void(boost::system::error_code)> handler) {
    core_->start_run(std::move(handler));
}

template <class Adapter>
void server_frontend<Adapter>::close() {
    core_->close();
}

template <class Adapter>
server_stats server_frontend<Adapter>::stats() const {
    return core_->stats();
}

template <class Adapter>
std::optional<session_stats> server_frontend<Adapter>::peer_stats(std::uint64_t peer_id) const {
    return core_->peer_stats(peer_id);
}

} // namespace heartbeat
