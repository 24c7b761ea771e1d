// Messages from 1 byte to 64 MiB echo intact and in order over a real TCP socket.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <random>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

std::string pattern(std::size_t n, std::uint32_t seed) {
    std::string s(n, '\0');
    std::mt19937 rng(seed);
    for (auto& c : s)
        c = static_cast<char>(rng());
    return s;
}

// Receives `sent.size()` messages on `client`, counting those equal to `sent`, in order, until
// the first that is not (then `mismatch`); then closes the client.
asio::awaitable<void> receive_in_order(tcp_session& client, const std::vector<std::string>& sent,
                                       std::size_t& received, bool& mismatch) {
    for (std::size_t i = 0; i < sent.size(); ++i) {
        auto [ec, msg] = co_await client.async_receive(asio::as_tuple(asio::use_awaitable));
        if (ec || msg != sent[i]) {
            mismatch = true;
            break;
        }
        ++received;
    }
    client.close();
}

asio::awaitable<void> echo(tcp_session& s) {
    for (;;) {
        auto [ec, msg] = co_await s.async_receive(asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return;
        auto [sec] = co_await s.async_send(std::move(msg), asio::as_tuple(asio::use_awaitable));
        if (sec)
            co_return;
    }
}

} // namespace

TEST(SessionEcho, MessagesFromOneByteTo64MiBArriveIntactAndInOrder) {
    asio::io_context ioc;
    auto [a, b] = tcp_pair(ioc);
    tcp_session server(std::move(a), fast_config(200ms, 1000ms, 3));
    tcp_session client(std::move(b), fast_config(200ms, 1000ms, 3));
    boost::system::error_code server_end, client_end;
    bool server_done = false, client_done = false;
    server.async_run([&](boost::system::error_code ec) { server_end = ec, server_done = true; });
    client.async_run([&](boost::system::error_code ec) { client_end = ec, client_done = true; });
    asio::co_spawn(ioc, echo(server), asio::detached);

    const std::vector<std::size_t> sizes = {1,     2,       100,           4096,    65535,    65536,
                                            65537, 1 << 20, (1 << 20) + 7, 8 << 20, 64u << 20};
    std::vector<std::string> sent;
    for (std::size_t i = 0; i < sizes.size(); ++i)
        sent.push_back(pattern(sizes[i], static_cast<std::uint32_t>(i)));

    std::size_t received = 0;
    bool mismatch = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (const auto& m : sent)
                client.async_send(m, asio::detached); // all queued at once, in order
            co_await receive_in_order(client, sent, received, mismatch);
        },
        asio::detached);

    ASSERT_TRUE(run_until(
        ioc, [&] { return client_done && server_done; }, 60s))
        << "received " << received;
    EXPECT_FALSE(mismatch) << "message " << received << " differed";
    EXPECT_EQ(received, sent.size());
    EXPECT_EQ(client_end, error::session_closed);
    EXPECT_EQ(server_end, error::peer_closed);
    const auto stats = client.stats();
    EXPECT_EQ(stats.messages_sent, sent.size());
    EXPECT_EQ(stats.messages_received, sent.size());
}

TEST(SessionEcho, IdleSessionsExchangeHeartbeatsAndMeasureRtt) {
    asio::io_context ioc;
    auto [a, b] = tcp_pair(ioc);
    tcp_session server(std::move(a), fast_config(50ms, 500ms, 3));
    int rtt_samples = 0;
    session_callbacks cb;
    cb.on_rtt = [&](duration, const rtt_estimator&) { ++rtt_samples; };
    tcp_session client(std::move(b), fast_config(50ms, 500ms, 3), cb);
    bool done = false;
    boost::system::error_code client_end;
    server.async_run(asio::detached);
    client.async_run([&](boost::system::error_code ec) { client_end = ec, done = true; });
    run_until(
        ioc, [&] { return rtt_samples >= 10; }, 10s);
    EXPECT_GE(rtt_samples, 10);
    const auto stats = client.stats();
    EXPECT_EQ(stats.state, peer_state::alive);
    EXPECT_GE(stats.rtt.samples, 10u);
    EXPECT_GT(stats.rtt.srtt, duration::zero());
    EXPECT_LT(stats.rtt.srtt, 500ms);
    client.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return done; }, 10s));
    EXPECT_EQ(client_end, error::session_closed);
}

// Short payloads keep their bytes inside the std::string object, and the send queue moves its
// messages when it grows: a write waiting for socket space must not point into them. Big
// messages fill the socket buffers so writes do wait, while more short ones keep arriving;
// received payloads reuse the buffers of sent ones, so every byte is compared.
TEST(SessionEcho, ShortMessagesQueuedWhileAWriteWaitsArriveIntact) {
    asio::io_context ioc;
    auto [a, b] = tcp_pair(ioc);
    tcp_session server(std::move(a), fast_config(200ms, 2000ms, 3));
    tcp_session client(std::move(b), fast_config(200ms, 2000ms, 3));
    bool server_done = false, client_done = false;
    boost::system::error_code client_end;
    server.async_run([&](boost::system::error_code) { server_done = true; });
    client.async_run([&](boost::system::error_code ec) { client_end = ec, client_done = true; });
    asio::co_spawn(ioc, echo(server), asio::detached);

    constexpr int rounds = 150;
    constexpr int shorts_per_round = 24;
    std::vector<std::string> sent;
    for (int r = 0; r < rounds; ++r) {
        sent.push_back(
            pattern(100'000 + static_cast<std::size_t>(r), static_cast<std::uint32_t>(r)));
        for (int i = 0; i < shorts_per_round; ++i)
            sent.push_back(
                pattern(static_cast<std::size_t>(i), static_cast<std::uint32_t>(r * 100 + i)));
    }
    std::size_t received = 0;
    bool mismatch = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (std::size_t i = 0; i < sent.size(); ++i) {
                client.async_send(sent[i], asio::detached);
                if (i % 5 == 4) // let the writer and the peer run between pushes
                    co_await asio::post(ioc, asio::use_awaitable);
            }
        },
        asio::detached);
    asio::co_spawn(ioc, receive_in_order(client, sent, received, mismatch), asio::detached);

    ASSERT_TRUE(run_until(
        ioc, [&] { return client_done && server_done; }, 60s))
        << "received " << received;
    EXPECT_FALSE(mismatch) << "message " << received << " differed";
    EXPECT_EQ(received, sent.size());
    EXPECT_EQ(client_end, error::session_closed);
    EXPECT_EQ(client.stats().messages_received, sent.size());
}
