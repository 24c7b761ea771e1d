// The MQTT profile against a real mosquitto started by the test: round trips with PINGREQ /
// PINGRESP in MQTT 3.1.1 and 5, a frozen broker declared dead within [budget, budget + 30 ms],
// publish/subscribe through the session, the broker's keep-alive kept while its own traffic
// keeps our monitor quiet, refused credentials named, and an MQTT session pointed at a Redis
// server ending with a named protocol error within the handshake timeout.
#include "real_server_support.hpp"

#include <heartbeat/protocol/profile_sessions.hpp>

#include <boost/asio/steady_timer.hpp>

#include <fstream>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

mqtt_config fast_mqtt(mqtt::protocol_version version, std::chrono::milliseconds interval,
                      std::chrono::milliseconds timeout, unsigned misses = 3) {
    mqtt_config c;
    c.version = version;
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

const char* name_of(mqtt::protocol_version v) {
    return v == mqtt::protocol_version::v5 ? "MQTT 5" : "MQTT 3.1.1";
}

class MqttSession : public ::testing::TestWithParam<mqtt::protocol_version> {};

TEST_P(MqttSession, RoundTripsAreMeasuredAgainstMosquitto) {
    HEARTBEAT_REQUIRE_SERVER("mosquitto");
    temp_dir dir;
    auto broker = start_mosquitto(dir, "mosquitto");
    ASSERT_TRUE(broker);
    asio::io_context ioc;
    int rtts = 0;
    session_callbacks cb;
    cb.on_rtt = [&](duration, const rtt_estimator&) { ++rtts; };
    auto config = fast_mqtt(GetParam(), 20ms, 200ms);
    config.client_id = "hb-rtt";
    mqtt_tcp_session s(connect_to(ioc, *broker), config, cb);
    run_outcome run;
    run_into(s, run);
    ASSERT_TRUE(run_until(
        ioc, [&] { return rtts >= 5 || run.done; }, 5s))
        << name_of(GetParam());
    ASSERT_FALSE(run.done) << run.reason.message();
    const auto st = s.stats();
    EXPECT_EQ(st.state, peer_state::alive);
    EXPECT_GE(st.heartbeat.pongs_received, 5u);
    EXPECT_LT(st.rtt.last, 100ms);
    s.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.done; }, 5s));
    EXPECT_EQ(run.reason, error::session_closed) << run.reason.message();
}

TEST_P(MqttSession, FrozenBrokerIsDeclaredDeadWithinTheBudget) {
    HEARTBEAT_REQUIRE_SERVER("mosquitto");
    temp_dir dir;
    auto broker = start_mosquitto(dir, "mosquitto");
    ASSERT_TRUE(broker);
    asio::io_context ioc;
    std::optional<verdict> dead;
    int rtts = 0;
    session_callbacks cb;
    cb.on_rtt = [&](duration, const rtt_estimator&) { ++rtts; };
    cb.on_verdict = [&](const verdict& v) { dead = v; };
    const auto config = fast_mqtt(GetParam(), 200ms, 200ms, 3);
    const duration budget = silence_budget(config.heartbeat);
    mqtt_tcp_session s(connect_to(ioc, *broker), config, cb);
    run_outcome run;
    run_into(s, run);
    ASSERT_TRUE(run_until(
        ioc, [&] { return rtts >= 1 || run.done; }, 5s));
    ASSERT_FALSE(run.done) << run.reason.message();
    ASSERT_TRUE(broker->freeze());
    const time_point frozen = clock::now();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.done; }, 10s));
    EXPECT_EQ(run.reason, error::peer_dead) << run.reason.message();
    ASSERT_TRUE(dead);
    std::printf("[mqtt freeze] %s silent_ms=%.3f budget_ms=%.0f detected_after_freeze_ms=%.3f\n",
                name_of(GetParam()), to_ms(dead->silence), to_ms(budget), to_ms(run.at - frozen));
    EXPECT_GE(dead->silence, budget);
    EXPECT_LE(dead->silence, budget + 30ms);
    EXPECT_LE(run.at - frozen, budget + 30ms);
}

TEST_P(MqttSession, PublishAndSubscribeThroughTheSession) {
    HEARTBEAT_REQUIRE_SERVER("mosquitto");
    temp_dir dir;
    auto broker = start_mosquitto(dir, "mosquitto");
    ASSERT_TRUE(broker);
    asio::io_context ioc;
    const auto version = GetParam();
    mqtt_tcp_session s(connect_to(ioc, *broker), fast_mqtt(version, 50ms, 500ms));
    run_outcome run;
    run_into(s, run);
    std::vector<mqtt_message> received;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (;;) {
                auto [ec, m] = co_await s.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
                received.push_back(std::move(m));
            }
        },
        asio::detached);
    const mqtt::subscription topics[] = {{"hb/test", 1}};
    s.async_send(mqtt::encode_subscribe(1, topics, version), [](boost::system::error_code) {});
    const auto has = [&](mqtt::packet_type t) {
        return std::any_of(received.begin(), received.end(),
                           [t](const mqtt_message& m) { return m.type == t; });
    };
    ASSERT_TRUE(run_until(
        ioc, [&] { return has(mqtt::packet_type::suback) || run.done; }, 5s));
    s.async_send(mqtt::encode_publish("hb/test", "hello broker", 1, false, 2, version),
                 [](boost::system::error_code) {});
    ASSERT_TRUE(run_until(
        ioc,
        [&] {
            return (has(mqtt::packet_type::puback) && has(mqtt::packet_type::publish)) || run.done;
        },
        5s));
    ASSERT_FALSE(run.done) << run.reason.message();
    for (const auto& m : received) {
        if (m.type != mqtt::packet_type::publish)
            continue;
        boost::system::error_code ec;
        const auto bytes = std::span<const std::uint8_t>(
            reinterpret_cast<const std::uint8_t*>(m.payload.data()), m.payload.size());
        const auto p = mqtt::decode_publish(bytes, version, ec);
        ASSERT_TRUE(p) << ec.message();
        EXPECT_EQ(p->topic, "hb/test");
        EXPECT_EQ(p->payload, "hello broker");
    }
    // The session's own packets are refused, and it goes on.
    std::vector<boost::system::error_code> refused;
    const auto ping = mqtt::pingreq();
    for (std::string bad : {std::string(ping.begin(), ping.end()), mqtt::encode_disconnect(version),
                            std::string("\x30\x05", 2)})
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

// The broker's publications keep our monitor content (any inbound packet is life), so it never
// pings; the broker still must hear from us within 1.5 x keep-alive or it drops us.
TEST_P(MqttSession, KeepAliveIsKeptWhileTheBrokersTrafficKeepsTheMonitorQuiet) {
    HEARTBEAT_REQUIRE_SERVER("mosquitto");
    temp_dir dir;
    auto broker = start_mosquitto(dir, "mosquitto");
    ASSERT_TRUE(broker);
    asio::io_context ioc;
    const auto version = GetParam();
    auto config = fast_mqtt(version, 10s, 1s); // the monitor would wait 10 s before a ping
    config.keep_alive = 1s;                    // the broker drops us after 1.5 s of silence
    config.client_id = "hb-quiet-subscriber";
    mqtt_tcp_session subscriber(connect_to(ioc, *broker), config);
    run_outcome run;
    run_into(subscriber, run);
    int publishes = 0;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (;;) {
                auto [ec, m] =
                    co_await subscriber.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
                publishes += m.type == mqtt::packet_type::publish;
            }
        },
        asio::detached);
    const mqtt::subscription topics[] = {{"hb/chatter", 0}};
    subscriber.async_send(mqtt::encode_subscribe(1, topics, version),
                          [](boost::system::error_code) {});
    auto publisher_config = fast_mqtt(version, 100ms, 500ms);
    publisher_config.client_id = "hb-chatty-publisher";
    mqtt_tcp_session publisher(connect_to(ioc, *broker), publisher_config);
    run_outcome publisher_run;
    run_into(publisher, publisher_run);
    const std::uint64_t sent_before = subscriber.stats().bytes_sent;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer t(ioc);
            for (int i = 0; i < 40; ++i) { // 4 s of chatter, every 100 ms
                publisher.async_send(
                    mqtt::encode_publish("hb/chatter", "tick", 0, false, 0, version),
                    [](boost::system::error_code) {});
                t.expires_after(100ms);
                co_await t.async_wait(asio::use_awaitable);
            }
        },
        asio::detached);
    run_for(ioc, 4s);
    EXPECT_FALSE(run.done) << "the broker dropped us: " << run.reason.message();
    EXPECT_GE(publishes, 20);
    EXPECT_EQ(subscriber.stats().heartbeat.pings_sent, 0u) << "the monitor was never quiet";
    // Keep-alive PINGREQs (2 bytes each) went out, at least one a second after the SUBSCRIBE.
    EXPECT_GE(subscriber.stats().bytes_sent - sent_before, 2u * 3);
    subscriber.close();
    publisher.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.done && publisher_run.done; }, 5s));
}

TEST_P(MqttSession, RefusedCredentialsAreNamed) {
    HEARTBEAT_REQUIRE_SERVER("mosquitto");
    HEARTBEAT_REQUIRE_SERVER("mosquitto_passwd");
    temp_dir dir;
    const auto passwords = dir.path() / "passwords";
    std::ofstream(passwords) << "";
    const std::string make = *find_program("mosquitto_passwd") + " -b " + passwords.string() +
                             " alice wonderland > /dev/null 2>&1";
    ASSERT_EQ(std::system(make.c_str()), 0);
    // Started as root, mosquitto reads the password file after dropping to its own user.
    namespace fs = std::filesystem;
    fs::permissions(dir.path(), fs::perms::owner_all | fs::perms::group_read |
                                    fs::perms::group_exec | fs::perms::others_read |
                                    fs::perms::others_exec);
    fs::permissions(passwords, fs::perms::owner_read | fs::perms::owner_write |
                                   fs::perms::group_read | fs::perms::others_read);
    const auto binary = find_program("mosquitto");
    const unsigned short port = free_loopback_port();
    const auto conf = dir.path() / "auth.conf";
    std::ofstream(conf) << "listener " << port << " 127.0.0.1\nallow_anonymous false\n"
                        << "password_file " << passwords.string() << "\n";
    server_process broker;
    ASSERT_TRUE(broker.start({*binary, "-c", conf.string()}, port, dir.path() / "auth.log"));
    const auto attempt = [&](std::optional<std::string> user, std::optional<std::string> pass) {
        asio::io_context ioc;
        auto config = fast_mqtt(GetParam(), 50ms, 500ms);
        config.username = std::move(user);
        config.password = std::move(pass);
        mqtt_tcp_session s(connect_to(ioc, broker), config);
        run_outcome run;
        run_into(s, run);
        int rtts = 0;
        run_until(
            ioc, [&] { return run.done || s.stats().heartbeat.pongs_received > 0; }, 5s);
        rtts = static_cast<int>(s.stats().heartbeat.pongs_received);
        if (!run.done) {
            s.close();
            run_until(
                ioc, [&] { return run.done; }, 5s);
            return rtts > 0 ? boost::system::error_code{} : run.reason;
        }
        return run.reason;
    };
    // Mosquitto 2 answers a wrong password with "not authorized" (3.1.1 code 5, MQTT 5 0x87)
    // rather than "bad user name or password"; either way the refusal is named and fatal.
    const auto wrong = attempt("alice", "looking-glass");
    EXPECT_TRUE(wrong == error::not_authorized || wrong == error::authentication_failed)
        << wrong.message();
    EXPECT_TRUE(is_fatal(wrong));
    const auto anonymous = attempt(std::nullopt, std::nullopt);
    EXPECT_TRUE(anonymous == error::not_authorized || anonymous == error::authentication_failed)
        << anonymous.message();
    EXPECT_FALSE(attempt("alice", "wonderland")) << "the right password is accepted";
}

TEST_P(MqttSession, PointedAtRedisEndsWithANamedErrorInTime) {
    HEARTBEAT_REQUIRE_SERVER("redis-server");
    temp_dir dir;
    auto redis = start_redis(dir, "redis");
    ASSERT_TRUE(redis);
    asio::io_context ioc;
    auto config = fast_mqtt(GetParam(), 100ms, 500ms);
    config.handshake_timeout = 1s;
    mqtt_tcp_session s(connect_to(ioc, *redis), config);
    run_outcome run;
    const time_point started = clock::now();
    run_into(s, run);
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.done; }, 10s))
        << "a hang";
    std::printf("[mqtt->resp] %s ended with %s after %.1f ms\n", name_of(GetParam()),
                error_name(run.reason), to_ms(run.at - started));
    EXPECT_TRUE(run.reason == error::handshake_failed || run.reason == error::malformed_frame ||
                run.reason == error::handshake_timeout)
        << run.reason.message();
    EXPECT_LE(run.at - started, config.handshake_timeout + 500ms);
}

INSTANTIATE_TEST_SUITE_P(Versions, MqttSession,
                         ::testing::Values(mqtt::protocol_version::v311,
                                           mqtt::protocol_version::v5),
                         [](const auto& info) {
                             return info.param == mqtt::protocol_version::v5 ? "v5" : "v311";
                         });

} // namespace
