// The RESP profile against a real redis-server started by the test: round trips measured with
// PING, a frozen server declared dead within [budget, budget + 30 ms] of silence, 1,000
// pipelined INCRs interleaved with heartbeats every 10 ms answered exactly in order, the
// handshake's refusals named, and a RESP session pointed at an MQTT broker ending with a named
// protocol error within the handshake timeout.
#include "real_server_support.hpp"

#include <heartbeat/protocol/profile_sessions.hpp>
#include <heartbeat/protocol/resp/resp_value.hpp>

#include <boost/asio/steady_timer.hpp>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

resp_config fast_resp(std::chrono::milliseconds interval, std::chrono::milliseconds timeout,
                      unsigned misses = 3) {
    resp_config c;
    c.heartbeat.interval = interval;
    c.heartbeat.pong_timeout = timeout;
    c.heartbeat.max_missed = misses;
    c.heartbeat.jitter = 0;
    c.handshake_timeout = 2s;
    c.close_timeout = 500ms;
    return c;
}

tcp::socket connect_to(asio::io_context& ioc, const server_process& server) {
    tcp::socket s(ioc);
    s.connect(server.endpoint());
    return s;
}

std::int64_t integer_of(const resp_reply& r) {
    boost::system::error_code ec;
    const auto v = resp::parse_value(r.payload, ec);
    if (!v || v->kind != resp::reply_kind::integer)
        return -1;
    return v->integer;
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

TEST(RespSession, RoundTripsAreMeasuredAgainstRedis) {
    HEARTBEAT_REQUIRE_SERVER("redis-server");
    temp_dir dir;
    auto redis = start_redis(dir, "redis");
    ASSERT_TRUE(redis);
    asio::io_context ioc;
    int rtts = 0;
    session_callbacks cb;
    cb.on_rtt = [&](duration, const rtt_estimator&) { ++rtts; };
    redis_session s(connect_to(ioc, *redis), fast_resp(20ms, 200ms), cb);
    run_outcome run;
    run_into(s, run);
    ASSERT_TRUE(run_until(
        ioc, [&] { return rtts >= 5; }, 5s))
        << "RTT samples: " << rtts;
    const auto st = s.stats();
    EXPECT_EQ(st.state, peer_state::alive);
    EXPECT_GE(st.heartbeat.pongs_received, 5u);
    EXPECT_GT(st.rtt.last, duration::zero());
    EXPECT_LT(st.rtt.last, 100ms);
    s.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.done; }, 5s));
    EXPECT_EQ(run.reason, error::session_closed) << run.reason.message();
}

TEST(RespSession, FrozenRedisIsDeclaredDeadWithinTheBudget) {
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
    const auto config = fast_resp(200ms, 200ms, 3);
    const duration budget = silence_budget(config.heartbeat);
    redis_session s(connect_to(ioc, *redis), config, cb);
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
    std::printf("[resp freeze] silent_ms=%.3f budget_ms=%.0f detected_after_freeze_ms=%.3f\n",
                to_ms(dead->silence), to_ms(budget), to_ms(run.at - frozen));
    EXPECT_GE(dead->silence, budget);
    EXPECT_LE(dead->silence, budget + 30ms);
    EXPECT_EQ(dead->missed, 3u);
    EXPECT_LE(run.at - frozen, budget + 30ms);
}

// Pings every 10 ms whatever the traffic (pong_only), interleaved with 1,000 INCRs sent in
// batches: every reply must answer its own request, so the i-th reply is i.
TEST(RespSession, PipelinedIncrsInterleavedWithPingsGetTheirOwnReplies) {
    HEARTBEAT_REQUIRE_SERVER("redis-server");
    temp_dir dir;
    auto redis = start_redis(dir, "redis");
    ASSERT_TRUE(redis);
    asio::io_context ioc;
    auto config = fast_resp(10ms, 500ms);
    config.heartbeat.liveness = liveness_mode::pong_only;
    redis_session s(connect_to(ioc, *redis), config);
    run_outcome run;
    run_into(s, run);
    constexpr int total = 1000;
    std::vector<std::int64_t> replies;
    bool wrong_kind = false;
    int send_errors = 0;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer pause(ioc);
            for (int sent = 0; sent < total;) {
                for (int i = 0; i < 20 && sent < total; ++i, ++sent)
                    s.async_send(resp::command("INCR", "hb:counter"),
                                 [&](boost::system::error_code ec) { send_errors += !!ec; });
                pause.expires_after(3ms); // let pings go out between the batches
                co_await pause.async_wait(asio::use_awaitable);
            }
        },
        asio::detached);
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            while (replies.size() < total) {
                auto [ec, reply] = co_await s.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
                wrong_kind |= reply.push || reply.kind != resp::reply_kind::integer;
                replies.push_back(integer_of(reply));
            }
        },
        asio::detached);
    ASSERT_TRUE(run_until(
        ioc, [&] { return replies.size() == total || run.done; }, 20s));
    ASSERT_EQ(replies.size(), std::size_t(total)) << run.reason.message();
    EXPECT_EQ(send_errors, 0);
    EXPECT_FALSE(wrong_kind);
    for (int i = 0; i < total; ++i)
        ASSERT_EQ(replies[static_cast<std::size_t>(i)], i + 1) << "reply " << i;
    const auto st = s.stats();
    std::printf("[resp pipeline] pings %llu pongs %llu during %d INCRs\n",
                static_cast<unsigned long long>(st.heartbeat.pings_sent),
                static_cast<unsigned long long>(st.heartbeat.pongs_received), total);
    EXPECT_GE(st.heartbeat.pongs_received, 10u) << "the pings must interleave with the INCRs";
    // The counter itself, read back through the same session.
    std::optional<std::string> value;
    s.async_send(resp::command("GET", "hb:counter"), [](boost::system::error_code) {});
    s.async_receive([&](boost::system::error_code ec, resp_reply r) {
        if (!ec) {
            boost::system::error_code pe;
            if (auto v = resp::parse_value(r.payload, pe))
                value = v->string;
        }
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return value.has_value(); }, 5s));
    EXPECT_EQ(*value, "1000");
    s.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.done; }, 5s));
}

// RESP3 pub/sub through the ordered session: SUBSCRIBE's confirmation and the messages arrive as
// pushes (out of band, counted as traffic), while PINGs and other commands keep their order.
TEST(RespSession, Resp3PushesAreDeliveredBesideOrderedReplies) {
    HEARTBEAT_REQUIRE_SERVER("redis-server");
    temp_dir dir;
    auto redis = start_redis(dir, "redis");
    ASSERT_TRUE(redis);
    asio::io_context ioc;
    auto config = fast_resp(20ms, 500ms);
    config.heartbeat.liveness = liveness_mode::pong_only; // pings go on while pushes flow
    redis_session subscriber(connect_to(ioc, *redis), config);
    redis_session publisher(connect_to(ioc, *redis), fast_resp(50ms, 500ms));
    run_outcome sub_run, pub_run;
    run_into(subscriber, sub_run);
    run_into(publisher, pub_run);
    std::vector<resp_reply> received;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (;;) {
                auto [ec, r] =
                    co_await subscriber.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
                received.push_back(std::move(r));
            }
        },
        asio::detached);
    subscriber.async_send(resp::command("SUBSCRIBE", "hb:news"), [](boost::system::error_code) {});
    ASSERT_TRUE(run_until(
        ioc, [&] { return !received.empty(); }, 5s));
    EXPECT_TRUE(received[0].push) << "the confirmation is a push in RESP3";
    std::optional<std::int64_t> listeners;
    publisher.async_send(resp::command("PUBLISH", "hb:news", "extra extra"),
                         [](boost::system::error_code) {});
    publisher.async_receive([&](boost::system::error_code ec, resp_reply r) {
        if (!ec)
            listeners = integer_of(r);
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return received.size() >= 2 && listeners; }, 5s));
    EXPECT_EQ(*listeners, 1);
    ASSERT_TRUE(received[1].push);
    boost::system::error_code ec;
    const auto message = resp::parse_value(received[1].payload, ec);
    ASSERT_TRUE(message) << ec.message();
    ASSERT_EQ(message->elements.size(), 3u);
    EXPECT_EQ(message->elements[0].string, "message");
    EXPECT_EQ(message->elements[2].string, "extra extra");
    // While subscribed, the pings still find their +PONG in order.
    const auto pongs = subscriber.stats().heartbeat.pongs_received;
    run_for(ioc, 200ms);
    EXPECT_GE(subscriber.stats().heartbeat.pongs_received, pongs + 3);
    EXPECT_FALSE(sub_run.done) << sub_run.reason.message();
    subscriber.close();
    publisher.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return sub_run.done && pub_run.done; }, 5s));
}

TEST(RespSession, BadCommandsAreRefusedAndTheSessionGoesOn) {
    HEARTBEAT_REQUIRE_SERVER("redis-server");
    temp_dir dir;
    auto redis = start_redis(dir, "redis");
    ASSERT_TRUE(redis);
    asio::io_context ioc;
    redis_session s(connect_to(ioc, *redis), fast_resp(50ms, 500ms));
    run_outcome run;
    run_into(s, run);
    std::vector<boost::system::error_code> results;
    for (std::string bad :
         {std::string("PING\r\n"), resp::command("HELLO", "2"), resp::command("MONITOR"),
          resp::command("CLIENT", "REPLY", "OFF"), resp::command("PING") + resp::command("PING")})
        s.async_send(bad, [&](boost::system::error_code ec) { results.push_back(ec); });
    ASSERT_TRUE(run_until(
        ioc, [&] { return results.size() == 5; }, 5s));
    for (const auto& ec : results)
        EXPECT_EQ(ec, error::invalid_message) << ec.message();
    // The session still works.
    std::optional<std::int64_t> n;
    s.async_send(resp::command("INCR", "hb:after-bad"), [](boost::system::error_code) {});
    s.async_receive([&](boost::system::error_code ec, resp_reply r) {
        if (!ec)
            n = integer_of(r);
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return n.has_value(); }, 5s));
    EXPECT_EQ(*n, 1);
    EXPECT_FALSE(run.done);
    s.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.done; }, 5s));
}

TEST(RespSession, WrongPasswordIsAuthenticationFailed) {
    HEARTBEAT_REQUIRE_SERVER("redis-server");
    temp_dir dir;
    auto redis = start_redis(dir, "redis", {"--requirepass", "s3cret"});
    ASSERT_TRUE(redis);
    for (int protocol : {2, 3}) {
        asio::io_context ioc;
        auto config = fast_resp(50ms, 500ms);
        config.protocol = protocol;
        config.password = "wrong";
        redis_session s(connect_to(ioc, *redis), config);
        run_outcome run;
        run_into(s, run);
        ASSERT_TRUE(run_until(
            ioc, [&] { return run.done; }, 5s));
        EXPECT_EQ(run.reason, error::authentication_failed)
            << "RESP" << protocol << ": " << run.reason.message();
        EXPECT_TRUE(is_fatal(run.reason));
    }
    // And the right one works, RESP2 and RESP3, with a database selected.
    for (int protocol : {2, 3}) {
        asio::io_context ioc;
        auto config = fast_resp(20ms, 500ms);
        config.protocol = protocol;
        config.password = "s3cret";
        config.database = 3;
        config.client_name = "hb-test";
        int rtts = 0;
        session_callbacks cb;
        cb.on_rtt = [&](duration, const rtt_estimator&) { ++rtts; };
        redis_session s(connect_to(ioc, *redis), config, cb);
        run_outcome run;
        run_into(s, run);
        ASSERT_TRUE(run_until(
            ioc, [&] { return rtts >= 2 || run.done; }, 5s));
        EXPECT_FALSE(run.done) << "RESP" << protocol << ": " << run.reason.message();
        s.close();
        ASSERT_TRUE(run_until(
            ioc, [&] { return run.done; }, 5s));
    }
}

TEST(RespSession, PointedAtAnMqttBrokerEndsWithANamedErrorInTime) {
    HEARTBEAT_REQUIRE_SERVER("mosquitto");
    temp_dir dir;
    auto broker = start_mosquitto(dir, "mosquitto");
    ASSERT_TRUE(broker);
    for (int protocol : {2, 3}) {
        asio::io_context ioc;
        auto config = fast_resp(100ms, 500ms);
        config.protocol = protocol;
        config.handshake_timeout = 1s;
        redis_session s(connect_to(ioc, *broker), config);
        run_outcome run;
        const time_point started = clock::now();
        run_into(s, run);
        ASSERT_TRUE(run_until(
            ioc, [&] { return run.done; }, 10s))
            << "a hang";
        std::printf("[resp->mqtt] RESP%d ended with %s after %.1f ms\n", protocol,
                    error_name(run.reason), to_ms(run.at - started));
        EXPECT_TRUE(run.reason == error::handshake_failed || run.reason == error::malformed_frame ||
                    run.reason == error::handshake_timeout)
            << run.reason.message();
        EXPECT_LE(run.at - started, config.handshake_timeout + 500ms);
    }
}

} // namespace
