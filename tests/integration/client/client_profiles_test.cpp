// The client supervisor over redis://, mqtt:// and line:// endpoints against real servers: a
// frozen Redis primary declared dead and the client failed over to its replica, where the data
// written before the freeze is read back; MQTT and line endpoints mixed in one failover list.
#include "real_server_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/protocol/resp/resp_command.hpp>
#include <heartbeat/protocol/resp/resp_value.hpp>

#include <boost/asio/steady_timer.hpp>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

client_config fast_client() {
    client_config c;
    c.session.heartbeat.interval = 100ms;
    c.session.heartbeat.pong_timeout = 100ms;
    c.session.heartbeat.max_missed = 3;
    c.session.heartbeat.jitter = 0;
    c.session.handshake_timeout = 2s;
    c.session.close_timeout = 300ms;
    c.endpoints.failback = false;
    c.backoff.initial = 50ms;
    c.backoff.max = 200ms;
    c.use_reconnect_budget = false;
    return c;
}

endpoint parsed(const std::string& text) {
    std::string why;
    auto e = parse_endpoint(text, &why);
    EXPECT_TRUE(e) << text << ": " << why;
    return *e;
}

std::string value_of(const received_message& m) {
    boost::system::error_code ec;
    const auto v = resp::parse_value(m.payload, ec);
    return v ? v->string : "(unparsable: " + ec.message() + ")";
}

struct recorded {
    std::vector<client_event> events;
    bool has(client_event_kind k, const std::string& endpoint = {}) const {
        return std::any_of(events.begin(), events.end(), [&](const client_event& e) {
            return e.kind == k && (endpoint.empty() || e.endpoint == endpoint || e.to == endpoint);
        });
    }
    int count(client_event_kind k) const {
        return static_cast<int>(std::count_if(events.begin(), events.end(),
                                              [k](const client_event& e) { return e.kind == k; }));
    }
};

TEST(ClientProfiles, FrozenRedisPrimaryFailsOverToItsReplica) {
    HEARTBEAT_REQUIRE_SERVER("redis-server");
    temp_dir dir;
    auto primary = start_redis(dir, "primary");
    ASSERT_TRUE(primary);
    auto replica =
        start_redis(dir, "replica", {"--replicaof", "127.0.0.1", std::to_string(primary->port())});
    ASSERT_TRUE(replica);
    const std::string primary_uri = "redis://127.0.0.1:" + std::to_string(primary->port());
    const std::string replica_uri = "redis://127.0.0.1:" + std::to_string(replica->port());
    asio::io_context ioc;
    recorded rec;
    client c(ioc.get_executor(), {parsed(primary_uri), parsed(replica_uri)}, fast_client(),
             [&](const client_event& e) { rec.events.push_back(e); });
    bool run_done = false;
    boost::system::error_code run_reason;
    c.async_run([&](boost::system::error_code ec) {
        run_done = true;
        run_reason = ec;
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return rec.has(client_event_kind::rtt, primary_uri); }, 5s));
    // Write through the client, then read back: the primary answers.
    std::vector<received_message> replies;
    bool receiving = false;
    const auto receive_one = [&] {
        receiving = true;
        c.async_receive([&](boost::system::error_code ec, received_message m) {
            receiving = false;
            if (!ec)
                replies.push_back(std::move(m));
        });
    };
    c.async_send(resp::command("SET", "hb:key", "written-before-the-freeze"),
                 [](boost::system::error_code, std::uint64_t) {});
    receive_one();
    ASSERT_TRUE(run_until(
        ioc, [&] { return replies.size() == 1; }, 5s));
    EXPECT_EQ(value_of(replies[0]), "OK");
    // Until the replica has the key (replication is asynchronous); the client's loop keeps
    // running meanwhile, each check is one quick GET on the replica.
    asio::io_context probe_ctx;
    tcp::socket probe(probe_ctx);
    probe.connect(replica->endpoint());
    const auto replicated = [&] {
        asio::write(probe, asio::buffer(resp::command("GET", "hb:key")));
        char buf[256];
        const std::size_t n = probe.read_some(asio::buffer(buf));
        return std::string_view(buf, n).find("written") != std::string_view::npos;
    };
    ASSERT_TRUE(run_until(ioc, replicated, 5s)) << "the replica never got the key";
    ASSERT_TRUE(primary->freeze());
    ASSERT_TRUE(run_until(
        ioc, [&] { return rec.has(client_event_kind::connected, replica_uri); }, 10s));
    EXPECT_TRUE(rec.has(client_event_kind::dead, primary_uri));
    EXPECT_TRUE(rec.has(client_event_kind::failover, replica_uri));
    for (const auto& e : rec.events)
        if (e.kind == client_event_kind::dead) {
            ASSERT_TRUE(e.dead);
            EXPECT_GE(e.dead->silence, 400ms);
            EXPECT_LE(e.dead->silence, 430ms);
        }
    c.async_send(resp::command("GET", "hb:key"), [](boost::system::error_code, std::uint64_t) {});
    if (!receiving)
        receive_one();
    ASSERT_TRUE(run_until(
        ioc, [&] { return replies.size() == 2; }, 5s));
    EXPECT_EQ(value_of(replies[1]), "written-before-the-freeze");
    c.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run_done; }, 5s));
    EXPECT_EQ(run_reason, error::session_closed) << run_reason.message();
}

TEST(ClientProfiles, MqttAndLineEndpointsInOneFailoverList) {
    HEARTBEAT_REQUIRE_SERVER("redis-server");
    HEARTBEAT_REQUIRE_SERVER("mosquitto");
    temp_dir dir;
    auto broker = start_mosquitto(dir, "broker");
    ASSERT_TRUE(broker);
    auto redis = start_redis(dir, "redis");
    ASSERT_TRUE(redis);
    const std::string mqtt_uri =
        "mqtt://127.0.0.1:" + std::to_string(broker->port()) + "?client_id=hb-client&version=5";
    const std::string line_uri =
        "line://127.0.0.1:" + std::to_string(redis->port()) + "?ping=PING&pong=%2BPONG";
    asio::io_context ioc;
    recorded rec;
    client c(ioc.get_executor(), {parsed(mqtt_uri), parsed(line_uri)}, fast_client(),
             [&](const client_event& e) { rec.events.push_back(e); });
    bool run_done = false;
    c.async_run([&](boost::system::error_code) { run_done = true; });
    ASSERT_TRUE(run_until(
        ioc, [&] { return rec.count(client_event_kind::rtt) >= 2; }, 5s));
    EXPECT_TRUE(rec.has(client_event_kind::connected, mqtt_uri));
    ASSERT_TRUE(broker->freeze());
    ASSERT_TRUE(run_until(
        ioc,
        [&] {
            return rec.has(client_event_kind::connected, line_uri) &&
                   rec.count(client_event_kind::rtt) >= 4;
        },
        10s));
    EXPECT_TRUE(rec.has(client_event_kind::dead, mqtt_uri));
    EXPECT_TRUE(rec.has(client_event_kind::failover, line_uri));
    // A line through the client, answered by the server behind line://.
    std::optional<std::string> answer;
    c.async_send("INCR hb:client", [](boost::system::error_code, std::uint64_t) {});
    c.async_receive([&](boost::system::error_code ec, received_message m) {
        if (!ec)
            answer = m.payload;
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return answer.has_value(); }, 5s));
    EXPECT_EQ(*answer, ":1");
    broker->thaw();
    c.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run_done; }, 5s));
}

// Refused credentials cannot be cured by reconnecting: the supervisor gives up once every
// endpoint refused them in a row (is_fatal), instead of retrying for ever.
TEST(ClientProfiles, RefusedRedisCredentialsEndTheRun) {
    HEARTBEAT_REQUIRE_SERVER("redis-server");
    temp_dir dir;
    auto a = start_redis(dir, "a", {"--requirepass", "right"});
    auto b = start_redis(dir, "b", {"--requirepass", "right"});
    ASSERT_TRUE(a && b);
    asio::io_context ioc;
    recorded rec;
    client c(ioc.get_executor(),
             {parsed("redis://:wrong@127.0.0.1:" + std::to_string(a->port())),
              parsed("redis://:wrong@127.0.0.1:" + std::to_string(b->port()))},
             fast_client(), [&](const client_event& e) { rec.events.push_back(e); });
    bool run_done = false;
    boost::system::error_code run_reason;
    c.async_run([&](boost::system::error_code ec) {
        run_done = true;
        run_reason = ec;
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return run_done; }, 10s));
    EXPECT_EQ(run_reason, error::authentication_failed) << run_reason.message();
    EXPECT_TRUE(rec.has(client_event_kind::gave_up));
    EXPECT_EQ(rec.count(client_event_kind::connecting), 2) << "one attempt per endpoint";
    for (const auto& e : rec.events)
        EXPECT_EQ(e.endpoint.find("wrong"), std::string::npos) << "a password in an event";
}

} // namespace
