// The OS keepalive a TCP session derives from its heartbeat config, read back from the kernel
// with getsockopt, and what it cannot do: a peer whose process is frozen (SIGSTOP) keeps a live
// kernel that ACKs every keepalive probe, so TCP keepalive never declares it dead; the
// heartbeat, which needs the peer's application to answer, does within its budget.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <boost/asio/read.hpp>

#include <array>
#include <cstdio>
#include <functional>
#include <optional>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

int int_option(int fd, int level, int name) {
    int value = -1;
    socklen_t size = sizeof value;
    if (::getsockopt(fd, level, name, &value, &size) != 0)
        return -1;
    return value;
}

unsigned user_timeout_ms(int fd) {
    unsigned value = 0;
    socklen_t size = sizeof value;
    ::getsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &value, &size);
    return value;
}

} // namespace

TEST(TcpKeepalive, OptionsDerivedFromTheConfigAreOnTheSocket) {
    asio::io_context ioc;
    auto [a, b] = tcp_pair(ioc);
    auto cfg = fast_config(1000ms, 1500ms, 3); // budget 1 + 3 x 1.5 = 5.5 s
    tcp_session session(std::move(a), cfg);
    bool ended = false;
    session.async_run([&](boost::system::error_code) { ended = true; });
    run_for(ioc, 20ms); // the options are set when the run starts
    const int fd = session.stream().native_handle();
    EXPECT_EQ(int_option(fd, SOL_SOCKET, SO_KEEPALIVE), 1);
    EXPECT_EQ(int_option(fd, IPPROTO_TCP, TCP_KEEPIDLE), 6) << "budget 5.5 s, rounded up";
    EXPECT_EQ(int_option(fd, IPPROTO_TCP, TCP_KEEPINTVL), 2) << "pong timeout 1.5 s, rounded up";
    EXPECT_EQ(int_option(fd, IPPROTO_TCP, TCP_KEEPCNT), 3);
    EXPECT_EQ(user_timeout_ms(fd), 11000u) << "2 x budget";
    EXPECT_EQ(int_option(fd, IPPROTO_TCP, TCP_NODELAY), 1);
    session.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return ended; }, 5s));

    // Turned off, the socket keeps the kernel's defaults.
    auto [c, d] = tcp_pair(ioc);
    cfg.tcp_keepalive = false;
    tcp_session plain(std::move(c), cfg);
    ended = false;
    plain.async_run([&](boost::system::error_code) { ended = true; });
    run_for(ioc, 20ms);
    EXPECT_EQ(int_option(plain.stream().native_handle(), SOL_SOCKET, SO_KEEPALIVE), 0);
    EXPECT_EQ(user_timeout_ms(plain.stream().native_handle()), 0u);
    plain.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return ended; }, 5s));
}

TEST(TcpKeepalive, SigstoppedPeerIsNeverCaughtByKeepalive) {
    child_peer peer;
    ASSERT_TRUE(peer.start(test_peer_path(), {})) << test_peer_path();
    asio::io_context ioc;

    // The OS keepalive at its most eager: first probe after 1 s idle, then every 1 s, dead after
    // 2 unanswered: it would give up 3 s after the peer's kernel stopped answering.
    tcp::socket watched(ioc);
    watched.connect(loopback(peer.port()));
    const int fd = watched.native_handle();
    const int on = 1, idle = 1, interval = 1, count = 2;
    ASSERT_EQ(::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on), 0);
    ASSERT_EQ(::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle), 0);
    ASSERT_EQ(::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval), 0);
    ASSERT_EQ(::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count), 0);
    // Reads (and drops) whatever the server sends, its HELLO first, until the connection fails.
    std::array<char, 64> sink{};
    std::optional<boost::system::error_code> keepalive_end;
    std::function<void()> read_on = [&] {
        watched.async_read_some(asio::buffer(sink), [&](boost::system::error_code ec, std::size_t) {
            if (ec)
                keepalive_end = ec;
            else
                read_on();
        });
    };
    read_on();

    // A heartbeat session to the same process, budget 200 + 3 x 200 = 800 ms.
    tcp::socket socket(ioc);
    socket.connect(loopback(peer.port()));
    auto cfg = fast_config(200ms, 200ms, 3);
    cfg.tcp_keepalive = false; // only the heartbeat decides here
    int rtts = 0;
    session_callbacks cb;
    cb.on_rtt = [&](duration, const rtt_estimator&) { ++rtts; };
    tcp_session session(std::move(socket), cfg, cb);
    std::optional<boost::system::error_code> heartbeat_end;
    time_point heartbeat_end_at{};
    session.async_run([&](boost::system::error_code ec) {
        heartbeat_end = ec;
        heartbeat_end_at = clock::now();
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return rtts >= 2; }, 10s));

    ASSERT_TRUE(peer.freeze());
    const time_point frozen_at = clock::now();
    // Four times as long as keepalive needs to give up on a peer whose kernel is gone.
    run_for(ioc, 12s);
    peer.kill_and_reap();

    ASSERT_TRUE(heartbeat_end.has_value());
    EXPECT_EQ(*heartbeat_end, error::peer_dead) << heartbeat_end->message();
    std::printf("[keepalive] heartbeat verdict %.0f ms after SIGSTOP; TCP keepalive (1 s idle, "
                "1 s interval, 2 probes): %s after 12000 ms\n",
                to_ms(heartbeat_end_at - frozen_at),
                keepalive_end ? keepalive_end->message().c_str() : "no verdict");
    EXPECT_LT(heartbeat_end_at - frozen_at, 5s);
    EXPECT_FALSE(keepalive_end.has_value())
        << "TCP keepalive ended the connection: " << keepalive_end->message();
    watched.close();
    run_for(ioc, 10ms);
}
