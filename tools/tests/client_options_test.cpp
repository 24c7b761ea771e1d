#include "client_options.hpp"
#include "usage_error.hpp"

#include <gtest/gtest.h>

using namespace heartbeat::cli;
using namespace std::chrono_literals;

namespace {
std::string error_of(const heartbeat_flags& hb, const supervisor_flags& sup) {
    try {
        make_client_config(hb, sup);
    } catch (const usage_error& e) {
        return e.what();
    }
    return "";
}
std::string endpoints_error_of(const std::vector<std::string>& args) {
    try {
        make_endpoints(args);
    } catch (const usage_error& e) {
        return e.what();
    }
    return "";
}
} // namespace

TEST(ClientOptions, DefaultsKeepTheLibrarysExceptFailbackWhichIsOff) {
    const auto c = make_client_config({}, {});
    EXPECT_FALSE(c.endpoints.failback);
    EXPECT_TRUE(heartbeat::endpoint_policy_config{}.failback); // the library's default differs
    EXPECT_EQ(c.endpoints.min_dwell, 10s);
    EXPECT_EQ(c.backoff.initial, 1s);
    EXPECT_EQ(c.backoff.max, 120s);
    EXPECT_EQ(c.give_up.max_attempts, 0u);
    EXPECT_EQ(c.give_up.max_downtime, 0s); // never: retry forever
    EXPECT_EQ(c.session.heartbeat.interval, 1s);
    EXPECT_EQ(c.session.heartbeat.pong_timeout, 1s);
    EXPECT_EQ(c.session.heartbeat.max_missed, 3u);
}

TEST(ClientOptions, FlagsReachTheClientConfig) {
    heartbeat_flags hb;
    hb.interval = "200ms";
    hb.misses = "5";
    supervisor_flags sup;
    sup.failback = true;
    sup.min_dwell = "1.5s";
    sup.backoff_initial = "50ms";
    sup.backoff_max = "200ms";
    sup.give_up_after = "2m";
    const auto c = make_client_config(hb, sup);
    EXPECT_EQ(c.session.heartbeat.interval, 200ms);
    EXPECT_EQ(c.session.heartbeat.max_missed, 5u);
    EXPECT_TRUE(c.endpoints.failback);
    EXPECT_EQ(c.endpoints.min_dwell, 1500ms);
    EXPECT_EQ(c.backoff.initial, 50ms);
    EXPECT_EQ(c.backoff.max, 200ms);
    EXPECT_EQ(c.give_up.max_downtime, 120s);
}

TEST(ClientOptions, ErrorsNameTheFlag) {
    supervisor_flags sup;
    sup.backoff_initial = "soon";
    EXPECT_EQ(error_of({}, sup), "--backoff-initial: invalid duration 'soon' (use ms, s or m "
                                 "suffix, e.g. 250ms, 1.5s, 2m)");
    sup = {};
    sup.backoff_initial = "0ms";
    EXPECT_EQ(error_of({}, sup), "--backoff-initial: must be > 0 (client_config.backoff.initial)");
    sup = {};
    sup.backoff_initial = "5s";
    sup.backoff_max = "1s";
    EXPECT_EQ(error_of({}, sup), "--backoff-max: must be >= initial (client_config.backoff.max)");
    sup = {};
    sup.min_dwell = "x";
    EXPECT_EQ(error_of({}, sup).rfind("--min-dwell: invalid duration 'x'", 0), 0u);
    sup = {};
    sup.give_up_after = "0s";
    EXPECT_EQ(error_of({}, sup).rfind("--give-up-after: must be > 0", 0), 0u);
    heartbeat_flags hb;
    hb.interval = "0ms"; // session flags keep make_session_config's messages
    EXPECT_EQ(error_of(hb, {}), "--interval: must be > 0 (session_config.heartbeat.interval)");
}

TEST(ClientOptions, EndpointsKeepTheirOrderAndTheTextAsLabel) {
    const auto eps = make_endpoints({"127.0.0.1:7000", "[::1]:7001", "localhost:7002"});
    ASSERT_EQ(eps.size(), 3u);
    EXPECT_EQ(eps[0].label, "127.0.0.1:7000");
    EXPECT_EQ(eps[0].host, "127.0.0.1");
    EXPECT_EQ(eps[0].port, "7000");
    ASSERT_TRUE(eps[0].resolved);
    EXPECT_EQ(eps[0].resolved->port(), 7000);
    EXPECT_EQ(eps[1].label, "[::1]:7001");
    EXPECT_EQ(eps[1].host, "::1");
    ASSERT_TRUE(eps[1].resolved);
    EXPECT_TRUE(eps[1].resolved->address().is_v6());
    EXPECT_EQ(eps[2].host, "localhost");
    EXPECT_FALSE(eps[2].resolved); // names are resolved on every attempt
}

TEST(ClientOptions, BadEndpointsNameTheArgument) {
    EXPECT_EQ(endpoints_error_of({}), "ENDPOINT: at least one HOST:PORT is required");
    EXPECT_EQ(endpoints_error_of({"127.0.0.1:7000", "nonsense"})
                  .rfind("ENDPOINT: invalid "
                         "address 'nonsense'",
                         0),
              0u);
    EXPECT_NE(endpoints_error_of({"127.0.0.1:0"}).find("1..65535"), std::string::npos);
}

TEST(ClientOptions, WebSocketEndpointsMixWithNativeOnes) {
    const auto eps =
        make_endpoints({"ws://127.0.0.1:8080/feed?x=1", "127.0.0.1:7000", "wss://example.com"});
    ASSERT_EQ(eps.size(), 3u);
    EXPECT_EQ(eps[0].scheme, heartbeat::endpoint_scheme::ws);
    EXPECT_EQ(eps[0].label, "ws://127.0.0.1:8080/feed?x=1");
    EXPECT_EQ(eps[0].host, "127.0.0.1");
    EXPECT_EQ(eps[0].port, "8080");
    EXPECT_EQ(eps[0].target, "/feed?x=1");
    ASSERT_TRUE(eps[0].resolved);
    EXPECT_EQ(eps[1].scheme, heartbeat::endpoint_scheme::native);
    EXPECT_EQ(eps[2].scheme, heartbeat::endpoint_scheme::wss);
    EXPECT_EQ(eps[2].port, "443");
    EXPECT_EQ(eps[2].target, "/");
    EXPECT_FALSE(eps[2].resolved);
}

TEST(ClientOptions, BadWebSocketEndpointsNameTheArgumentAndTheReason) {
    EXPECT_EQ(endpoints_error_of({"http://h/"}),
              "ENDPOINT: invalid endpoint 'http://h/' (unknown scheme 'http' (expected ws://, "
              "wss://, redis://, rediss://, mqtt://, mqtts://, line://, lines:// or HOST:PORT))");
    EXPECT_EQ(endpoints_error_of({"ws://:80/"}),
              "ENDPOINT: invalid endpoint 'ws://:80/' (missing host)");
    EXPECT_EQ(endpoints_error_of({"ws://h:99999/"}),
              "ENDPOINT: invalid endpoint 'ws://h:99999/' (port must be a number in [0, 65535])");
    EXPECT_EQ(endpoints_error_of({"127.0.0.1:1", "ws://h:0/"}),
              "ENDPOINT: invalid endpoint 'ws://h:0/' (port must be a number in 1..65535)");
}

TEST(ClientOptions, SendRate) {
    EXPECT_EQ(parse_send_rate("0"), 0u);
    EXPECT_EQ(parse_send_rate("200"), 200u);
    EXPECT_EQ(parse_send_rate("100000"), 100000u);
    EXPECT_THROW(parse_send_rate("100001"), std::invalid_argument);
    EXPECT_THROW(parse_send_rate("-1"), std::invalid_argument);
    EXPECT_THROW(parse_send_rate("2.5"), std::invalid_argument);
    EXPECT_THROW(parse_send_rate(""), std::invalid_argument);
}
