#pragma once
// Breaks the ownership cycles of a running server or client: a server core owns its sessions and
// each session's pending completions own the core; a client owns its session, whose callbacks
// own the client. While the execution context runs, every session ends and the cycle unwinds;
// when the context is destroyed with sessions still pending, nothing would run again to unwind
// it. This service is told of every running server core and client and, when its context shuts
// down, has each one drop what it owns (their handlers are destroyed, not invoked, as Asio does
// with every pending handler at that point).
#include <boost/asio/execution_context.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <utility>

namespace heartbeat::detail {

class context_shutdown_service : public boost::asio::execution_context::service {
public:
    using key_type = context_shutdown_service;
    static inline boost::asio::execution_context::id id;

    explicit context_shutdown_service(boost::asio::execution_context& context);

    // `abandon` runs once, on the thread destroying the io_context, unless removed first.
    std::uint64_t add(std::function<void()> abandon);
    void remove(std::uint64_t ticket);

private:
    void shutdown() override;

    std::mutex mutex_;
    std::map<std::uint64_t, std::function<void()>> owners_;
    std::uint64_t next_ticket_ = 1;
};

// An owner's registration with its context's service (a member of the owner): made once, when
// the owner starts running; removed when the owner goes away, unless the service ran it first.
class context_shutdown_registration {
public:
    context_shutdown_registration() = default;
    context_shutdown_registration(const context_shutdown_registration&) = delete;
    context_shutdown_registration& operator=(const context_shutdown_registration&) = delete;
    ~context_shutdown_registration() {
        if (service_ != nullptr)
            service_->remove(ticket_);
    }

    // At shutdown, `abandon(owner)` runs if the owner still exists. Later calls do nothing.
    template <class Owner, class Abandon>
    void add(boost::asio::execution_context& context, std::weak_ptr<Owner> owner, Abandon abandon) {
        if (service_ != nullptr)
            return;
        service_ = &boost::asio::use_service<context_shutdown_service>(context);
        ticket_ =
            service_->add([this, owner = std::move(owner), abandon = std::move(abandon)]() mutable {
                // `this` is a member of the owner: alive while the owner is.
                if (auto self = owner.lock()) {
                    service_ = nullptr; // the service is going away: no remove()
                    abandon(*self);
                }
            });
    }

private:
    context_shutdown_service* service_ = nullptr;
    std::uint64_t ticket_ = 0;
};

} // namespace heartbeat::detail
