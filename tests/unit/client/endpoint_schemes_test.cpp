// redis://, mqtt:// and line:// endpoints (and their TLS forms): user info, database, options,
// default ports, masked passwords, and every malformed form refused with a reason.
#include <heartbeat/client/endpoint.hpp>

#include <gtest/gtest.h>

namespace {

using namespace heartbeat;

endpoint parsed(const char* text) {
    std::string why;
    auto e = parse_endpoint(text, &why);
    EXPECT_TRUE(e.has_value()) << text << ": " << why;
    return e.value_or(endpoint{});
}

std::string refusal(const char* text) {
    std::string why;
    EXPECT_FALSE(parse_endpoint(text, &why).has_value()) << text;
    return why;
}

TEST(EndpointSchemes, RedisWithUserPasswordAndDatabase) {
    const auto e = parsed("redis://app:s%40cret@127.0.0.1:6390/3?protocol=2&name=worker");
    EXPECT_EQ(e.scheme, endpoint_scheme::redis);
    EXPECT_EQ(e.host, "127.0.0.1");
    EXPECT_EQ(e.port, "6390");
    EXPECT_EQ(e.username, "app");
    EXPECT_EQ(e.password, "s@cret");
    EXPECT_EQ(e.database, 3u);
    EXPECT_EQ(e.option("protocol"), std::optional<std::string>("2"));
    EXPECT_EQ(e.option("name"), std::optional<std::string>("worker"));
    EXPECT_EQ(e.label, "redis://app:***@127.0.0.1:6390/3?protocol=2&name=worker");
    ASSERT_TRUE(e.resolved);
    EXPECT_EQ(e.resolved->port(), 6390);
    EXPECT_FALSE(e.tls());
    EXPECT_FALSE(e.websocket());
}

TEST(EndpointSchemes, RedisDefaultsAndPasswordOnly) {
    const auto e = parsed("rediss://:pw@cache.example");
    EXPECT_EQ(e.scheme, endpoint_scheme::rediss);
    EXPECT_EQ(e.port, "6379");
    EXPECT_TRUE(e.username.empty());
    EXPECT_EQ(e.password, "pw");
    EXPECT_EQ(e.database, 0u);
    EXPECT_TRUE(e.tls());
    EXPECT_EQ(e.label, "rediss://:***@cache.example");
}

TEST(EndpointSchemes, MqttWithOptions) {
    const auto e = parsed("mqtt://sensor:x@[::1]?client_id=dev%2F7&version=5&keep_alive=30");
    EXPECT_EQ(e.scheme, endpoint_scheme::mqtt);
    EXPECT_EQ(e.host, "::1");
    EXPECT_EQ(e.port, "1883");
    EXPECT_EQ(e.username, "sensor");
    EXPECT_EQ(e.password, "x");
    EXPECT_EQ(e.option("client_id"), std::optional<std::string>("dev/7"));
    EXPECT_EQ(e.option("version"), std::optional<std::string>("5"));
    EXPECT_EQ(e.option("keep_alive"), std::optional<std::string>("30"));
    EXPECT_EQ(parsed("mqtts://broker").port, "8883");
    EXPECT_EQ(parsed("mqtt://user@broker").username, "user"); // a user without a password
}

TEST(EndpointSchemes, LineWithPingAndPong) {
    const auto e = parsed("line://127.0.0.1:6379?ping=PING&pong=+PONG&match=prefix&eol=lf");
    EXPECT_EQ(e.scheme, endpoint_scheme::line);
    EXPECT_EQ(e.port, "6379");
    EXPECT_EQ(e.option("ping"), std::optional<std::string>("PING"));
    EXPECT_EQ(e.option("pong"), std::optional<std::string>("+PONG")) << "'+' stays '+'";
    EXPECT_EQ(e.option("match"), std::optional<std::string>("prefix"));
    EXPECT_EQ(e.option("eol"), std::optional<std::string>("lf"));
    EXPECT_EQ(parsed("line://h:1?ping=NOOP%20now").option("ping"),
              std::optional<std::string>("NOOP now"));
    EXPECT_TRUE(parsed("lines://h:1").tls());
}

TEST(EndpointSchemes, TheOldFormsAreUnchanged) {
    EXPECT_TRUE(parsed("ws://h/p").websocket());
    EXPECT_FALSE(parsed("ws://h/p").tls());
    EXPECT_TRUE(parsed("wss://h/p").tls());
    EXPECT_EQ(parsed("127.0.0.1:7000").scheme, endpoint_scheme::native);
}

TEST(EndpointSchemes, MalformedFormsAreRefusedWithAReason) {
    EXPECT_NE(refusal("line://host").find("HOST:PORT"), std::string::npos);
    EXPECT_NE(refusal("redis://h?protocol=4").find("protocol must be 2 or 3"), std::string::npos);
    EXPECT_NE(refusal("redis://h?db=1").find("unknown option 'db'"), std::string::npos);
    EXPECT_NE(refusal("redis://h/x").find("database number"), std::string::npos);
    EXPECT_NE(refusal("redis://user@h").find("[USER]:PASSWORD@"), std::string::npos);
    EXPECT_NE(refusal("mqtt://h?version=4.0").find("3.1.1 or 5"), std::string::npos);
    EXPECT_NE(refusal("mqtt://h?keep_alive=70000").find("keep_alive"), std::string::npos);
    EXPECT_NE(refusal("mqtt://h/topic").find("no path"), std::string::npos);
    EXPECT_NE(refusal("line://h:1?match=fuzzy").find("exact or prefix"), std::string::npos);
    EXPECT_NE(refusal("line://h:1?eol=cr").find("crlf or lf"), std::string::npos);
    EXPECT_NE(refusal("line://h:1?ping=").find("non-empty"), std::string::npos);
    EXPECT_NE(refusal("line://h:1?max_line=0").find("max_line"), std::string::npos);
    EXPECT_NE(refusal("line://u@h:1").find("user info"), std::string::npos);
    EXPECT_NE(refusal("line://h:1?ping=%ZZ").find("percent"), std::string::npos);
    EXPECT_EQ(refusal("redis://h#frag"), "an endpoint URI has no fragment ('#...')");
    EXPECT_NE(refusal("gopher://h:70").find("unknown scheme"), std::string::npos);
}

} // namespace
