#pragma once
// The second line of defence under every heartbeat on TCP: SO_KEEPALIVE tuned to the heartbeat's
// silence budget (TCP_KEEPIDLE = budget, TCP_KEEPINTVL = pong_timeout, TCP_KEEPCNT = max_missed,
// whole seconds, at least 1), TCP_USER_TIMEOUT = 2 x budget so unacknowledged data cannot sit in
// the send queue for the kernel's 15-minute default, and TCP_NODELAY because heartbeats are
// latency-sensitive small writes.
#include <heartbeat/core/config.hpp>
#include <heartbeat/session/stream_control.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/socket_base.hpp>

#include <algorithm>
#include <chrono>
#include <type_traits>

#include <netinet/in.h>
#include <netinet/tcp.h>

namespace heartbeat::detail {

template <class Socket>
void apply_tcp_keepalive(Socket& socket, bool enabled, const monitor_config& hb) {
    if constexpr (requires { typename Socket::protocol_type; }) {
        if constexpr (std::is_same_v<typename Socket::protocol_type, boost::asio::ip::tcp>) {
            if (!enabled || !socket.is_open())
                return;
            const auto secs = [](duration d) {
                return static_cast<int>(
                    std::max<long long>(1, std::chrono::ceil<std::chrono::seconds>(d).count()));
            };
            boost::system::error_code ignored;
            socket.set_option(boost::asio::socket_base::keep_alive(true), ignored);
            const int fd = socket.native_handle();
            const int idle = secs(silence_budget(hb));
            const int intvl = secs(hb.pong_timeout);
            const int cnt = static_cast<int>(hb.max_missed);
            const unsigned user_timeout = static_cast<unsigned>(std::min<long long>(
                0x7FFFFFFF,
                std::chrono::duration_cast<std::chrono::milliseconds>(2 * silence_budget(hb))
                    .count()));
            ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
            ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof intvl);
            ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof cnt);
            ::setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &user_timeout, sizeof user_timeout);
            int one = 1;
            ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        }
    }
}

} // namespace heartbeat::detail
