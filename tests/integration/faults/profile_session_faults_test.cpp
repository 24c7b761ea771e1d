// Fault injection at every step of the profile sessions against real servers on 127.0.0.1:
// Redis (HELLO 3, PING, close) and a line protocol (redis-server's inline PING), MQTT against
// mosquitto (CONNECT/CONNACK, PINGREQ, DISCONNECT). Each read or write fails in turn with each
// transport error, N = 1, 2, ... until the session runs clean (support/profile_fault_case.hpp).
#include "profile_fault_case.hpp"

#include <heartbeat/protocol/profile_sessions.hpp>
#include <heartbeat/session/stream_session_impl.hpp>

#include <cstdio>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {
using faulty_socket = fault_injection_stream<tcp::socket>;
} // namespace

TEST(ProfileSessionFaults, RedisHandshakePingAndClose) {
    HEARTBEAT_REQUIRE_SERVER("redis-server");
    temp_dir dir;
    auto redis = start_redis(dir, "redis");
    ASSERT_TRUE(redis);
    const auto cases = run_every_profile_fault<resp_session<faulty_socket>>(*redis, resp_config{});
    std::printf("[ faults   ] resp: %zu cases (faulted steps + clean runs)\n", cases);
}

TEST(ProfileSessionFaults, LinePingAndClose) {
    HEARTBEAT_REQUIRE_SERVER("redis-server");
    temp_dir dir;
    auto redis = start_redis(dir, "redis");
    ASSERT_TRUE(redis);
    line_config config;
    config.ping = "PING";
    config.pong = "+PONG";
    config.ending = line::line_ending::crlf;
    const auto cases = run_every_profile_fault<line_session<faulty_socket>>(*redis, config);
    std::printf("[ faults   ] line: %zu cases (faulted steps + clean runs)\n", cases);
}

TEST(ProfileSessionFaults, MqttConnectPingAndDisconnect) {
    HEARTBEAT_REQUIRE_SERVER("mosquitto");
    temp_dir dir;
    auto broker = start_mosquitto(dir, "mosquitto");
    ASSERT_TRUE(broker);
    const auto cases = run_every_profile_fault<mqtt_session<faulty_socket>>(*broker, mqtt_config{});
    std::printf("[ faults   ] mqtt: %zu cases (faulted steps + clean runs)\n", cases);
}
