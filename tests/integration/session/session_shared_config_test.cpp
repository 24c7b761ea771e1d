// Sessions constructed with one shared config: each runs with that very config (no copy), and a
// null one ends the run with a named error instead of being dereferenced.
#include "test_support.hpp"

#include <heartbeat/protocol/native/native_session.hpp>

#include <gtest/gtest.h>

#include <memory>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

TEST(SessionSharedConfig, SessionsShareOneConfigAndHeartbeatWithIt) {
    asio::io_context ioc;
    auto [a, b] = tcp_pair(ioc);
    const auto config = std::make_shared<const session_config>(fast_config(50ms, 500ms, 3));
    tcp_session server(std::move(a), config);
    tcp_session client(std::move(b), config);
    EXPECT_EQ(&server.config(), config.get());
    EXPECT_EQ(&client.config(), config.get());
    bool server_done = false, client_done = false;
    server.async_run([&](boost::system::error_code) { server_done = true; });
    client.async_run([&](boost::system::error_code) { client_done = true; });
    ASSERT_TRUE(run_until(
        ioc, [&] { return client.stats().heartbeat.pongs_received >= 2; }, 10s));
    EXPECT_EQ(client.stats().interval, 50ms);
    client.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return server_done && client_done; }, 10s));
}

TEST(SessionSharedConfig, ANullSharedConfigEndsTheRunWithInvalidConfig) {
    asio::io_context ioc;
    auto [a, b] = tcp_pair(ioc);
    tcp_session s(std::move(a), std::shared_ptr<const session_config>{});
    EXPECT_EQ(s.config().heartbeat.interval, session_config{}.heartbeat.interval);
    bool done = false;
    boost::system::error_code reason;
    s.async_run([&](boost::system::error_code ec) { reason = ec, done = true; });
    ASSERT_TRUE(run_until(
        ioc, [&] { return done; }, 5s));
    EXPECT_EQ(reason, error::invalid_config);
}
