#include <heartbeat/server/server_shutdown_service.hpp>

#include <utility>

namespace heartbeat::detail {

server_shutdown_service::server_shutdown_service(boost::asio::execution_context& context)
    : boost::asio::execution_context::service(context) {}

std::uint64_t server_shutdown_service::add(std::function<void()> abandon) {
    std::lock_guard lock(mutex_);
    const auto ticket = next_ticket_++;
    servers_.emplace(ticket, std::move(abandon));
    return ticket;
}

void server_shutdown_service::remove(std::uint64_t ticket) {
    std::lock_guard lock(mutex_);
    servers_.erase(ticket);
}

void server_shutdown_service::shutdown() {
    std::map<std::uint64_t, std::function<void()>> servers;
    {
        std::lock_guard lock(mutex_);
        servers.swap(servers_);
    }
    // Outside the lock: a core that abandoning destroys removes itself.
    for (auto& [ticket, abandon] : servers)
        abandon();
}

} // namespace heartbeat::detail
