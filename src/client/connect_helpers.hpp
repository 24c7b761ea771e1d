#pragma once
// What the supervisor's connection attempts share (src/supervised_session.cpp for native and
// WebSocket endpoints, src/client/profile_connections.cpp for Redis, MQTT and line ones): the
// abort hook of an attempt, and the client side of a TLS handshake (SNI, certificate checks).
#include <heartbeat/client/supervised_session.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

#include <functional>
#include <memory>

namespace heartbeat::detail {

// Installs an abort hook on `attempt` (if any) for the lifetime of this guard.
class abort_hook_guard {
public:
    abort_hook_guard(std::shared_ptr<connect_attempt> attempt, std::function<void()> hook)
        : attempt_(std::move(attempt)) {
        if (attempt_)
            attempt_->set_abort_hook(std::move(hook));
    }
    ~abort_hook_guard() {
        if (attempt_)
            attempt_->clear_abort_hook();
    }
    abort_hook_guard(const abort_hook_guard&) = delete;
    abort_hook_guard& operator=(const abort_hook_guard&) = delete;

private:
    std::shared_ptr<connect_attempt> attempt_;
};

inline bool aborted(const std::shared_ptr<connect_attempt>& attempt) {
    return attempt && attempt->aborted();
}

// SNI for host names (RFC 6066: certificates of address literals are checked by IP), and, when
// `verify`, the chain against the context's trust store and the name against `host`.
boost::system::error_code
prepare_tls_client(boost::asio::ssl::stream<boost::asio::ip::tcp::socket>& tls,
                   const std::string& host, bool verify);

} // namespace heartbeat::detail
