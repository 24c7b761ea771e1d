#include <heartbeat/server/websocket_server.hpp>

#include <heartbeat/server/server_frontend_impl.hpp>

namespace heartbeat {

bool websocket_server::send_to(std::uint64_t peer_id, std::string message,
                               websocket_message_kind kind) {
    return core().send_to(peer_id, std::move(message), kind);
}

template class server_frontend<websocket_server_adapter>;

} // namespace heartbeat
