// The server's on_message, over a real TCP connection on 127.0.0.1: every message reaches it once
// and in order, and one that throws neither loses the next messages nor ends the peer's session.
// The exception leaves io_context::run(), as any handler's does; run() again and the server goes
// on where it was.
#include "test_support.hpp"

#include <heartbeat/protocol/native/native_session.hpp>
#include <heartbeat/server/server.hpp>

#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

TEST(ServerOnMessage, AThrowingOnMessageLosesNothingAndTheSessionGoesOn) {
    asio::io_context ioc;
    std::vector<std::string> got;
    server_callbacks callbacks;
    callbacks.on_message = [&](const peer_info&, received_message m) {
        got.push_back(m.payload);
        if (m.payload == "throw")
            throw std::runtime_error("on_message threw");
    };
    server_config config;
    config.session = fast_config(100ms, 500ms, 3);
    tcp_server server(ioc, loopback(), config, callbacks);
    server.async_run([](boost::system::error_code) {});

    tcp::socket socket(ioc);
    socket.connect(server.local_endpoint());
    tcp_session client(std::move(socket), fast_config(100ms, 500ms, 3));
    bool client_ended = false;
    client.async_run([&](boost::system::error_code) { client_ended = true; });
    const std::vector<std::string> sent = {"one", "throw", "two", "three"};
    for (const auto& m : sent)
        client.async_send(m, [](boost::system::error_code) {});

    ASSERT_TRUE(run_until_thrown(ioc, "on_message threw", 10s));
    ASSERT_TRUE(run_until(
        ioc, [&] { return got.size() == sent.size(); }, 10s))
        << got.size() << " of " << sent.size() << " messages reached on_message";
    EXPECT_EQ(got, sent);
    // The peer's session is still up: the server still answers its heartbeats.
    const auto pongs_before = client.stats().heartbeat.pongs_received;
    ASSERT_TRUE(run_until(
        ioc, [&] { return client.stats().heartbeat.pongs_received >= pongs_before + 2; }, 10s));
    EXPECT_FALSE(client_ended);
    EXPECT_EQ(server.stats().active, 1u);

    client.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return client_ended; }, 10s));
    server.close();
    run_for(ioc, 100ms);
}
