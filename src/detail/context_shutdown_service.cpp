#include <heartbeat/detail/context_shutdown_service.hpp>

#include <utility>

namespace heartbeat::detail {

context_shutdown_service::context_shutdown_service(boost::asio::execution_context& context)
    : boost::asio::execution_context::service(context) {}

std::uint64_t context_shutdown_service::add(std::function<void()> abandon) {
    std::lock_guard lock(mutex_);
    const auto ticket = next_ticket_++;
    owners_.emplace(ticket, std::move(abandon));
    return ticket;
}

void context_shutdown_service::remove(std::uint64_t ticket) {
    std::lock_guard lock(mutex_);
    owners_.erase(ticket);
}

void context_shutdown_service::shutdown() {
    std::map<std::uint64_t, std::function<void()>> owners;
    {
        std::lock_guard lock(mutex_);
        owners.swap(owners_);
    }
    // Outside the lock: an owner that abandoning destroys removes itself.
    for (auto& [ticket, abandon] : owners)
        abandon();
}

} // namespace heartbeat::detail
