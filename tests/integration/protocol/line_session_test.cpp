// The line profile against a real server that speaks a line protocol: redis-server's inline
// commands ("PING" answered by "+PONG", CRLF). Round trips, application lines delivered in order
// around the pings, a frozen server declared dead within [budget, budget + 30 ms], and bad lines
// refused while the session goes on.
#include "real_server_support.hpp"

#include <heartbeat/protocol/profile_sessions.hpp>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

line_config redis_inline(std::chrono::milliseconds interval, std::chrono::milliseconds timeout) {
    line_config c;
    c.ping = "PING";
    c.pong = "+PONG";
    c.ending = line::line_ending::crlf;
    c.heartbeat.interval = interval;
    c.heartbeat.pong_timeout = timeout;
    c.heartbeat.max_missed = 3;
    c.heartbeat.jitter = 0;
    c.close_timeout = 500ms;
    return c;
}

struct run_outcome {
    bool done = false;
    boost::system::error_code reason;
    time_point at{};
};

template <class Session>
void run_into(Session& s, run_outcome& out) {
    s.async_run([&out](boost::system::error_code ec) {
        out.done = true;
        out.reason = ec;
        out.at = clock::now();
    });
}

tcp::socket connect_to(asio::io_context& ioc, const server_process& server) {
    tcp::socket s(ioc);
    s.connect(server.endpoint());
    return s;
}

TEST(LineSession, PingLinesAreAnsweredAndApplicationLinesDelivered) {
    HEARTBEAT_REQUIRE_SERVER("redis-server");
    temp_dir dir;
    auto redis = start_redis(dir, "redis");
    ASSERT_TRUE(redis);
    asio::io_context ioc;
    auto config = redis_inline(10ms, 500ms);
    config.heartbeat.liveness = liveness_mode::pong_only; // ping through the application's lines
    int rtts = 0;
    session_callbacks cb;
    cb.on_rtt = [&](duration, const rtt_estimator&) { ++rtts; };
    line_tcp_session s(connect_to(ioc, *redis), config, cb);
    run_outcome run;
    run_into(s, run);
    ASSERT_TRUE(run_until(
        ioc, [&] { return rtts >= 3 || run.done; }, 5s));
    ASSERT_FALSE(run.done) << run.reason.message();
    std::vector<std::string> lines;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (;;) {
                auto [ec, line] = co_await s.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
                lines.push_back(std::move(line));
            }
        },
        asio::detached);
    for (int i = 0; i < 50; ++i) {
        s.async_send("INCR hb:lines", [](boost::system::error_code) {});
        run_for(ioc, 1ms);
    }
    ASSERT_TRUE(run_until(
        ioc, [&] { return lines.size() >= 50 || run.done; }, 5s));
    ASSERT_EQ(lines.size(), 50u);
    for (int i = 0; i < 50; ++i)
        EXPECT_EQ(lines[static_cast<std::size_t>(i)], ":" + std::to_string(i + 1));
    EXPECT_GE(s.stats().heartbeat.pongs_received, 5u);
    std::vector<boost::system::error_code> refused;
    for (std::string bad :
         {std::string("two\r\nlines"), std::string("bare\rcr"), std::string(70000, 'x')})
        s.async_send(bad, [&](boost::system::error_code ec) { refused.push_back(ec); });
    ASSERT_TRUE(run_until(
        ioc, [&] { return refused.size() == 3; }, 5s));
    for (const auto& ec : refused)
        EXPECT_EQ(ec, error::invalid_message) << ec.message();
    EXPECT_FALSE(run.done);
    s.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.done; }, 5s));
    EXPECT_EQ(run.reason, error::session_closed) << run.reason.message();
}

TEST(LineSession, FrozenServerIsDeclaredDeadWithinTheBudget) {
    HEARTBEAT_REQUIRE_SERVER("redis-server");
    temp_dir dir;
    auto redis = start_redis(dir, "redis");
    ASSERT_TRUE(redis);
    asio::io_context ioc;
    std::optional<verdict> dead;
    int rtts = 0;
    session_callbacks cb;
    cb.on_rtt = [&](duration, const rtt_estimator&) { ++rtts; };
    cb.on_verdict = [&](const verdict& v) { dead = v; };
    const auto config = redis_inline(200ms, 200ms);
    const duration budget = silence_budget(config.heartbeat);
    line_tcp_session s(connect_to(ioc, *redis), config, cb);
    run_outcome run;
    run_into(s, run);
    ASSERT_TRUE(run_until(
        ioc, [&] { return rtts >= 1; }, 5s));
    ASSERT_TRUE(redis->freeze());
    const time_point frozen = clock::now();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.done; }, 10s));
    EXPECT_EQ(run.reason, error::peer_dead) << run.reason.message();
    ASSERT_TRUE(dead);
    std::printf("[line freeze] silent_ms=%.3f budget_ms=%.0f\n", to_ms(dead->silence),
                to_ms(budget));
    EXPECT_GE(dead->silence, budget);
    EXPECT_LE(dead->silence, budget + 30ms);
    EXPECT_LE(run.at - frozen, budget + 30ms);
}

} // namespace
