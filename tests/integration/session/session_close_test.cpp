// close(): "Flushes queued messages, sends CLOSE and ends the session with error::session_closed."
// Messages queued before close() are written whole and delivered; the peer then reads CLOSE and
// ends with peer_closed (not truncated_frame).
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

TEST(SessionClose, CloseFlushesQueuedMessagesThenSendsClose) {
    asio::io_context ioc;
    auto [a, b] = tcp_pair(ioc);
    tcp_session receiver(std::move(a), fast_config(100ms, 1000ms, 3));
    tcp_session closer(std::move(b), fast_config(100ms, 1000ms, 3));
    bool receiver_done = false, closer_done = false;
    boost::system::error_code receiver_reason, closer_reason;
    receiver.async_run([&](boost::system::error_code ec) {
        receiver_reason = ec;
        receiver_done = true;
    });
    closer.async_run([&](boost::system::error_code ec) {
        closer_reason = ec;
        closer_done = true;
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return closer.stats().state == peer_state::alive; }, 5s));

    std::vector<std::string> received;
    boost::system::error_code receive_end;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (;;) {
                auto [ec, m] = co_await receiver.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec) {
                    receive_end = ec;
                    co_return;
                }
                received.push_back(m.size() > 100 ? "big:" + std::to_string(m.size()) : m);
            }
        },
        asio::detached);

    std::vector<boost::system::error_code> results(3, asio::error::would_block);
    closer.async_send(std::string(8u << 20, 'x'),
                      [&](boost::system::error_code ec) { results[0] = ec; });
    closer.async_send("two", [&](boost::system::error_code ec) { results[1] = ec; });
    closer.async_send("three", [&](boost::system::error_code ec) { results[2] = ec; });
    closer.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return receiver_done && closer_done && receive_end; }, 10s));

    EXPECT_EQ(closer_reason, error::session_closed) << closer_reason.message();
    for (std::size_t i = 0; i < results.size(); ++i)
        EXPECT_FALSE(results[i]) << "message " << i << ": " << results[i].message();
    EXPECT_EQ(received,
              (std::vector<std::string>{"big:" + std::to_string(8u << 20), "two", "three"}));
    EXPECT_EQ(receiver_reason, error::peer_closed) << receiver_reason.message();
    EXPECT_EQ(receive_end, receiver_reason);
}

// Sends issued after close() fail with session_closed; those before it are unaffected.
TEST(SessionClose, SendsAfterCloseFailWithSessionClosed) {
    asio::io_context ioc;
    auto [a, b] = tcp_pair(ioc);
    tcp_session receiver(std::move(a), fast_config(100ms, 1000ms, 3));
    tcp_session closer(std::move(b), fast_config(100ms, 1000ms, 3));
    bool receiver_done = false, closer_done = false;
    receiver.async_run([&](boost::system::error_code) { receiver_done = true; });
    closer.async_run([&](boost::system::error_code) { closer_done = true; });
    ASSERT_TRUE(run_until(
        ioc, [&] { return closer.stats().state == peer_state::alive; }, 5s));
    boost::system::error_code before = asio::error::would_block, after = asio::error::would_block;
    closer.async_send("before", [&](boost::system::error_code ec) { before = ec; });
    closer.close();
    closer.async_send("after", [&](boost::system::error_code ec) { after = ec; });
    ASSERT_TRUE(run_until(
        ioc, [&] { return receiver_done && closer_done && after != asio::error::would_block; },
        10s));
    EXPECT_FALSE(before) << before.message();
    EXPECT_EQ(after, error::session_closed) << after.message();
}

// The flush must survive the transport too: the receiver reads slowly (its window is often
// closed, so the last flushed bytes still sit in the closer's kernel buffer when its session
// ends) and keeps sending heartbeats and ACKs. Closing the socket at that point would make the
// kernel answer with RST and drop the untransmitted tail; a graceful close (FIN, then read until
// the peer closes too) delivers everything.
TEST(SessionClose, CloseDeliversEverythingToASlowReaderThatKeepsTalking) {
    asio::io_context ioc;
    auto [a, b] = tcp_pair_small_buffers(ioc, 16 * 1024);
    session_config rcfg = fast_config(10ms, 1000ms, 3);
    rcfg.heartbeat.liveness = liveness_mode::pong_only; // pings all the time, data or not
    rcfg.receive_buffer_limit = 16 * 1024;
    tcp_session receiver(std::move(a), rcfg);
    tcp_session closer(std::move(b), fast_config(100ms, 1000ms, 3));
    bool receiver_done = false, closer_done = false;
    boost::system::error_code receiver_reason, closer_reason;
    receiver.async_run([&](boost::system::error_code ec) {
        receiver_reason = ec;
        receiver_done = true;
    });
    closer.async_run([&](boost::system::error_code ec) {
        closer_reason = ec;
        closer_done = true;
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return closer.stats().state == peer_state::alive; }, 5s));

    // 16 KiB taken every 20 ms: the tail left in the closer's kernel buffer when its session ends
    // takes tens of milliseconds to drain, during which the receiver pings every 10 ms.
    constexpr std::size_t kCount = 64, kSize = 16 * 1024;
    std::size_t received = 0, bad = 0;
    boost::system::error_code receive_end;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer pace(ioc);
            for (;;) {
                pace.expires_after(20ms);
                co_await pace.async_wait(asio::as_tuple(asio::use_awaitable));
                auto [ec, m] = co_await receiver.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec) {
                    receive_end = ec;
                    co_return;
                }
                if (m != std::string(kSize, static_cast<char>('a' + received % 26)))
                    ++bad;
                ++received;
            }
        },
        asio::detached);
    std::vector<boost::system::error_code> results(kCount, asio::error::would_block);
    for (std::size_t i = 0; i < kCount; ++i)
        closer.async_send(std::string(kSize, static_cast<char>('a' + i % 26)),
                          [&results, i](boost::system::error_code ec) { results[i] = ec; });
    closer.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return receiver_done && closer_done && receive_end; }, 20s));

    EXPECT_EQ(closer_reason, error::session_closed) << closer_reason.message();
    std::size_t sent = 0;
    for (const auto& r : results)
        sent += r ? 0 : 1;
    EXPECT_EQ(sent, kCount);
    EXPECT_EQ(received, kCount);
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(receiver_reason, error::peer_closed) << receiver_reason.message();
}
