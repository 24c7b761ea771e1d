// A killed peer (SIGKILL of its process: the kernel closes its socket with FIN or RST) ends the
// session promptly with error::peer_closed, long before the heartbeat budget would have run out,
// and without a verdict.
#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

// A long budget (2 s + 4 * 2 s = 10 s) so that only the transport can end the session in time.
session_config long_budget_config() {
    return fast_config(2000ms, 2000ms, 4);
}

struct observed {
    std::optional<verdict> dead;
    bool ended = false;
    time_point ended_at{};
    boost::system::error_code reason;
};

} // namespace

TEST(SessionKill, KilledIdlePeerEndsWithPeerClosedWellBeforeTheBudget) {
    child_peer peer;
    ASSERT_TRUE(peer.start(test_peer_path(), {})) << test_peer_path();
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(loopback(peer.port()));
    const session_config cfg = long_budget_config();
    ASSERT_EQ(silence_budget(cfg.heartbeat), 10s);
    observed o;
    session_callbacks cb;
    cb.on_verdict = [&](const verdict& v) { o.dead = v; };
    tcp_session client(std::move(socket), cfg, cb);
    client.async_run([&](boost::system::error_code ec) {
        o.reason = ec;
        o.ended = true;
        o.ended_at = clock::now();
    });
    std::string echoed;
    client.async_send("still there?", asio::detached);
    client.async_receive([&](boost::system::error_code ec, std::string m) {
        if (!ec)
            echoed = std::move(m);
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return !echoed.empty(); }, 10s));

    const time_point killed_at = clock::now();
    peer.kill_and_reap();
    ASSERT_TRUE(run_until(
        ioc, [&] { return o.ended; }, 2s))
        << "the session outlived its killed peer by 2 s";
    EXPECT_EQ(o.reason, error::peer_closed) << o.reason.message();
    EXPECT_LT(o.ended_at - killed_at, 2s);
    EXPECT_FALSE(o.dead.has_value());
}

// The same while a large message is being written to the peer: the write fails with EPIPE or
// ECONNRESET at the same moment the read sees the reset; either way the peer is gone, and the
// session must say so (peer_closed) rather than leak a raw transport error.
TEST(SessionKill, KilledPeerDuringLargeSendEndsWithPeerClosed) {
    child_peer peer;
    ASSERT_TRUE(peer.start(test_peer_path(), {})) << test_peer_path();
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(loopback(peer.port()));
    observed o;
    session_callbacks cb;
    cb.on_verdict = [&](const verdict& v) { o.dead = v; };
    tcp_session client(std::move(socket), long_budget_config(), cb);
    client.async_run([&](boost::system::error_code ec) {
        o.reason = ec;
        o.ended = true;
        o.ended_at = clock::now();
    });
    // Keep the link busy in both directions: 64 MiB out, echoed back in.
    bool send_done = false;
    boost::system::error_code send_ec;
    client.async_send(std::string(64u << 20, 'k'), [&](boost::system::error_code ec) {
        send_ec = ec;
        send_done = true;
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return client.stats().bytes_sent > (4u << 20); }, 10s));
    ASSERT_FALSE(send_done) << "the transfer finished before the kill; nothing was tested";

    const time_point killed_at = clock::now();
    peer.kill_and_reap();
    ASSERT_TRUE(run_until(
        ioc, [&] { return o.ended && send_done; }, 2s))
        << "the session outlived its killed peer by 2 s";
    EXPECT_EQ(o.reason, error::peer_closed) << o.reason.message();
    EXPECT_EQ(send_ec, o.reason) << send_ec.message();
    EXPECT_LT(o.ended_at - killed_at, 2s);
    EXPECT_FALSE(o.dead.has_value());
}
