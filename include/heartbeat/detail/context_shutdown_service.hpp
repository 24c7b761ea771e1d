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
#include <mutex>

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

} // namespace heartbeat::detail
