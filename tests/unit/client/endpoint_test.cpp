// parse_endpoint ("HOST:PORT", "[V6]:PORT", "ws://...", "wss://...") with its error reasons,
// endpoint::from, and validate(client_config) naming the bad field.
#include <heartbeat/client/client_config.hpp>
#include <heartbeat/client/endpoint.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace heartbeat;
using namespace std::chrono_literals;
namespace asio = boost::asio;

// ---- parse_endpoint: accepted forms ---------------------------------------------------------

TEST(ParseEndpoint, Ipv4LiteralIsResolvedWithoutDns) {
    std::string why = "untouched";
    const auto e = parse_endpoint("127.0.0.1:7000", &why);
    ASSERT_TRUE(e.has_value()) << why;
    EXPECT_EQ(e->host, "127.0.0.1");
    EXPECT_EQ(e->port, "7000");
    EXPECT_EQ(e->label, "127.0.0.1:7000");
    ASSERT_TRUE(e->resolved.has_value());
    EXPECT_EQ(*e->resolved, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 7000));
    EXPECT_EQ(why, "untouched") << "no reason is written on success";
}

TEST(ParseEndpoint, HostNameIsLeftForTheResolver) {
    const auto e = parse_endpoint("localhost:0");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->host, "localhost");
    EXPECT_EQ(e->port, "0");
    EXPECT_EQ(e->label, "localhost:0");
    EXPECT_FALSE(e->resolved.has_value()) << "names are resolved on every attempt";
}

TEST(ParseEndpoint, BracketedIpv6Literal) {
    const auto e = parse_endpoint("[::1]:80");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->host, "::1");
    EXPECT_EQ(e->port, "80");
    EXPECT_EQ(e->label, "[::1]:80");
    ASSERT_TRUE(e->resolved.has_value());
    EXPECT_TRUE(e->resolved->address().is_v6());
    EXPECT_EQ(*e->resolved, asio::ip::tcp::endpoint(asio::ip::make_address("::1"), 80));
}

TEST(ParseEndpoint, PortBounds) {
    ASSERT_TRUE(parse_endpoint("h:65535").has_value());
    EXPECT_EQ(parse_endpoint("h:65535")->port, "65535");
    ASSERT_TRUE(parse_endpoint("10.0.0.1:0").has_value());
    EXPECT_EQ(parse_endpoint("10.0.0.1:0")->resolved->port(), 0);
    EXPECT_FALSE(parse_endpoint("h:65536").has_value());
}

TEST(ParseEndpoint, ANullReasonPointerIsAllowed) {
    EXPECT_FALSE(parse_endpoint("nohost", nullptr).has_value());
    EXPECT_TRUE(parse_endpoint("h:1", nullptr).has_value());
}

// ---- parse_endpoint: errors and their reasons -----------------------------------------------

struct bad_case {
    const char* text;
    const char* reason;
};

class ParseEndpointRejects : public ::testing::TestWithParam<bad_case> {};

TEST_P(ParseEndpointRejects, WithTheReason) {
    const auto& c = GetParam();
    std::string why;
    const auto e = parse_endpoint(c.text, &why);
    EXPECT_FALSE(e.has_value()) << "'" << c.text << "' was accepted as host '" << e->host
                                << "' port '" << e->port << "'";
    EXPECT_EQ(why, c.reason) << "for '" << c.text << "'";
}

INSTANTIATE_TEST_SUITE_P(
    ParseEndpoint, ParseEndpointRejects,
    ::testing::Values(bad_case{"nohost", "expected HOST:PORT"}, bad_case{"", "expected HOST:PORT"},
                      bad_case{":80", "missing host"}, bad_case{"[]:80", "missing host"},
                      bad_case{"host:", "port must be a number in [0, 65535]"},
                      bad_case{"host:99999", "port must be a number in [0, 65535]"},
                      bad_case{"host:65536", "port must be a number in [0, 65535]"},
                      bad_case{"host:-1", "port must be a number in [0, 65535]"},
                      bad_case{"host:+80", "port must be a number in [0, 65535]"},
                      bad_case{"host:8o", "port must be a number in [0, 65535]"},
                      bad_case{"host: 80", "port must be a number in [0, 65535]"},
                      bad_case{"host:99999999999999999999", "port must be a number in [0, 65535]"},
                      bad_case{"::1:80", "IPv6 addresses must be written [ADDR]:PORT"},
                      bad_case{"fe80::1:443", "IPv6 addresses must be written [ADDR]:PORT"},
                      bad_case{"[::1]", "expected [IPV6]:PORT"},
                      bad_case{"[::1]80", "expected [IPV6]:PORT"},
                      bad_case{"[::1]:", "port must be a number in [0, 65535]"},
                      bad_case{"[::1", "expected [IPV6]:PORT"}),
    [](const ::testing::TestParamInfo<bad_case>& info) {
        return "case" + std::to_string(info.index);
    });

TEST(ParseEndpoint, NativeFormHasNoSchemeAndNoTarget) {
    const auto e = parse_endpoint("127.0.0.1:7000");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->scheme, endpoint_scheme::native);
    EXPECT_FALSE(e->websocket());
    EXPECT_EQ(e->target, "");
    EXPECT_STREQ(to_string(e->scheme), "native");
}

// ---- parse_endpoint: WebSocket URIs ----------------------------------------------------------

TEST(ParseWebSocketEndpoint, FullFormKeepsHostPortAndTarget) {
    std::string why = "untouched";
    const auto e = parse_endpoint("ws://127.0.0.1:8080/chat/room?x=1&y=2", &why);
    ASSERT_TRUE(e.has_value()) << why;
    EXPECT_EQ(why, "untouched");
    EXPECT_EQ(e->scheme, endpoint_scheme::ws);
    EXPECT_TRUE(e->websocket());
    EXPECT_EQ(e->host, "127.0.0.1");
    EXPECT_EQ(e->port, "8080");
    EXPECT_EQ(e->target, "/chat/room?x=1&y=2");
    EXPECT_EQ(e->label, "ws://127.0.0.1:8080/chat/room?x=1&y=2");
    ASSERT_TRUE(e->resolved.has_value());
    EXPECT_EQ(*e->resolved, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 8080));
    EXPECT_EQ(e->host_header(), "127.0.0.1:8080");
}

TEST(ParseWebSocketEndpoint, DefaultPortsAndTarget) {
    const auto ws = parse_endpoint("ws://example.com");
    ASSERT_TRUE(ws.has_value());
    EXPECT_EQ(ws->port, "80");
    EXPECT_EQ(ws->target, "/");
    EXPECT_FALSE(ws->resolved.has_value()) << "names are resolved on every attempt";
    EXPECT_EQ(ws->host_header(), "example.com") << "the default port is left out of Host";

    const auto wss = parse_endpoint("wss://example.com/feed");
    ASSERT_TRUE(wss.has_value());
    EXPECT_EQ(wss->scheme, endpoint_scheme::wss);
    EXPECT_STREQ(to_string(wss->scheme), "wss");
    EXPECT_EQ(wss->port, "443");
    EXPECT_EQ(wss->target, "/feed");
    EXPECT_EQ(wss->host_header(), "example.com");

    const auto query_only = parse_endpoint("ws://h?token=abc");
    ASSERT_TRUE(query_only.has_value());
    EXPECT_EQ(query_only->target, "/?token=abc");
    EXPECT_EQ(query_only->port, "80");

    // A non-default port appears in Host; port 443 is not the default of ws://.
    EXPECT_EQ(parse_endpoint("ws://h:443/")->host_header(), "h:443");
    EXPECT_EQ(parse_endpoint("wss://h:80/")->host_header(), "h:80");
    EXPECT_EQ(parse_endpoint("ws://h:0/")->port, "0");
}

TEST(ParseWebSocketEndpoint, SchemeIsCaseInsensitive) {
    const auto e = parse_endpoint("WSS://Host.Example:9443/");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->scheme, endpoint_scheme::wss);
    EXPECT_EQ(e->host, "Host.Example");
    EXPECT_EQ(e->port, "9443");
    EXPECT_EQ(e->label, "WSS://Host.Example:9443/") << "the label is the text as written";
}

TEST(ParseWebSocketEndpoint, BracketedIpv6WithAndWithoutPort) {
    const auto e = parse_endpoint("ws://[::1]:9000/x");
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->host, "::1");
    EXPECT_EQ(e->port, "9000");
    EXPECT_EQ(e->target, "/x");
    ASSERT_TRUE(e->resolved.has_value());
    EXPECT_EQ(*e->resolved, asio::ip::tcp::endpoint(asio::ip::make_address("::1"), 9000));
    EXPECT_EQ(e->host_header(), "[::1]:9000");

    const auto d = parse_endpoint("wss://[::1]");
    ASSERT_TRUE(d.has_value());
    EXPECT_EQ(d->host, "::1");
    EXPECT_EQ(d->port, "443");
    EXPECT_EQ(d->target, "/");
    ASSERT_TRUE(d->resolved.has_value());
    EXPECT_EQ(d->resolved->port(), 443);
    EXPECT_EQ(d->host_header(), "[::1]");
}

INSTANTIATE_TEST_SUITE_P(
    ParseWebSocketEndpoint, ParseEndpointRejects,
    ::testing::Values(
        bad_case{"http://h:80/", "unknown scheme 'http' (expected ws://, wss://, redis://, "
                                 "rediss://, mqtt://, mqtts://, line://, lines:// or HOST:PORT)"},
        bad_case{"tcp://h:80", "unknown scheme 'tcp' (expected ws://, wss://, redis://, rediss://, "
                               "mqtt://, mqtts://, line://, lines:// or HOST:PORT)"},
        bad_case{"://h:80", "unknown scheme '' (expected ws://, wss://, redis://, rediss://, "
                            "mqtt://, mqtts://, line://, lines:// or HOST:PORT)"},
        bad_case{"ws://", "missing host"}, bad_case{"ws:///path", "missing host"},
        bad_case{"wss://:443/", "missing host"}, bad_case{"ws://[]:80/", "missing host"},
        bad_case{"ws://h:/", "port must be a number in [0, 65535]"},
        bad_case{"ws://h:65536/", "port must be a number in [0, 65535]"},
        bad_case{"wss://h:https/", "port must be a number in [0, 65535]"},
        bad_case{"ws://h:-1", "port must be a number in [0, 65535]"},
        bad_case{"ws://[::1]:/", "port must be a number in [0, 65535]"},
        bad_case{"ws://::1:80/", "IPv6 addresses must be written in brackets, e.g. ws://[::1]:80/"},
        bad_case{"ws://[::1]80/", "expected [IPV6] or [IPV6]:PORT"},
        bad_case{"ws://[::1/", "expected [IPV6] or [IPV6]:PORT"},
        bad_case{"ws://h/#frag", "a WebSocket URI has no fragment ('#...')"},
        bad_case{"ws://user@h/", "user info ('user@') is not supported in a WebSocket URI"},
        bad_case{"ws://h/a b",
                 "the path may not contain spaces or control characters (percent-encode them)"}),
    [](const ::testing::TestParamInfo<bad_case>& info) {
        return "case" + std::to_string(info.index);
    });

TEST(EndpointFrom, LabelsIpv4AndBracketedIpv6) {
    const auto v4 = endpoint::from({asio::ip::make_address("10.1.2.3"), 9000});
    EXPECT_EQ(v4.label, "10.1.2.3:9000");
    EXPECT_EQ(v4.host, "10.1.2.3");
    EXPECT_EQ(v4.port, "9000");
    ASSERT_TRUE(v4.resolved.has_value());
    const auto v6 = endpoint::from({asio::ip::make_address("::1"), 80});
    EXPECT_EQ(v6.label, "[::1]:80");
    // The label parses back to the same endpoint.
    const auto again = parse_endpoint(v6.label);
    ASSERT_TRUE(again.has_value());
    EXPECT_EQ(again->resolved, v6.resolved);
}

// ---- validate(client_config) ----------------------------------------------------------------

TEST(ClientConfigValidate, DefaultsAreValid) {
    EXPECT_FALSE(validate(client_config{}).has_value());
}

TEST(ClientConfigValidate, NamesTheBadTopLevelField) {
    client_config c;
    c.connect_timeout = duration::zero();
    auto e = validate(c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->field, "client_config.connect_timeout");
    EXPECT_EQ(e->reason, "must be > 0");
    EXPECT_EQ(e->message(), "invalid_config: client_config.connect_timeout must be > 0");

    c = {};
    c.resolve_timeout = -1ms;
    e = validate(c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->field, "client_config.resolve_timeout");

    c = {};
    c.max_unacked_messages = 0;
    e = validate(c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->field, "client_config.max_unacked_messages");
    EXPECT_EQ(e->reason, "must be >= 1");

    c = {};
    c.max_unacked_bytes = 0;
    ASSERT_TRUE(validate(c).has_value());
    EXPECT_EQ(validate(c)->field, "client_config.max_unacked_bytes");

    c = {};
    c.probe_interval = duration::zero();
    ASSERT_TRUE(validate(c).has_value());
    EXPECT_EQ(validate(c)->field, "client_config.probe_interval");

    c = {};
    c.probe_timeout = duration::zero();
    ASSERT_TRUE(validate(c).has_value());
    EXPECT_EQ(validate(c)->field, "client_config.probe_timeout");

    c = {};
    c.failback_drain_timeout = -1ms;
    ASSERT_TRUE(validate(c).has_value());
    EXPECT_EQ(validate(c)->field, "client_config.failback_drain_timeout");
    EXPECT_EQ(validate(c)->reason, "must be >= 0");
    c.failback_drain_timeout = duration::zero(); // 0 is allowed: fail back without draining
    EXPECT_FALSE(validate(c).has_value());
}

// A nested field is named by the path a user writes in code, from client_config down:
// c.session.heartbeat.interval is "client_config.session.heartbeat.interval". The struct's type
// name (session_config, backoff_config, ...) is only the root when that struct is validated on
// its own.
TEST(ClientConfigValidate, NamesNestedFieldsByTheirMemberPath) {
    client_config c;
    c.session.heartbeat.interval = duration::zero();
    auto e = validate(c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->field, "client_config.session.heartbeat.interval");
    EXPECT_EQ(e->reason, "must be > 0");

    c = {};
    c.session.chunk_size = 0;
    e = validate(c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->field, "client_config.session.chunk_size");

    c = {};
    c.backoff.initial = duration::zero();
    e = validate(c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->field, "client_config.backoff.initial");
    EXPECT_EQ(e->reason, "must be > 0");

    c = {};
    c.backoff.multiplier = 0.5;
    e = validate(c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->field, "client_config.backoff.multiplier");

    c = {};
    c.endpoints.healthy_probes = 0;
    e = validate(c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->field, "client_config.endpoints.healthy_probes");
    EXPECT_EQ(e->reason, "must be >= 1");
}

TEST(ClientConfigValidate, NamesPhiAccrualFieldsUnderTheirMember) {
    client_config c;
    c.session.heartbeat.detector = detector_kind::phi_accrual;
    c.session.heartbeat.phi.dead_threshold = 1.0; // below suspect_threshold (3.0)
    const auto e = validate(c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->field, "client_config.session.heartbeat.phi.dead_threshold");
    EXPECT_EQ(e->reason, "must be finite and > suspect_threshold");

    // The same field validated through a session_config alone.
    const auto s = validate(c.session);
    ASSERT_TRUE(s.has_value());
    EXPECT_EQ(s->field, "session_config.heartbeat.phi.dead_threshold");
}

TEST(ClientConfigValidate, SessionConfigAloneUsesItsTypeNameAsTheRoot) {
    session_config s;
    s.heartbeat.pong_timeout = duration::zero();
    const auto e = validate(s);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->field, "session_config.heartbeat.pong_timeout");
    EXPECT_EQ(e->reason, "must be > 0");
}

TEST(ClientConfigValidate, NamesTheBadWebSocketField) {
    client_config c;
    c.websocket.fragment_size = 0;
    auto e = validate(c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->field, "client_config.websocket.fragment_size");
    EXPECT_EQ(e->reason, "must be in [1, 1 GiB]");

    c = {};
    c.websocket.user_agent = "evil\r\nX-Injected: 1";
    e = validate(c);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->field, "client_config.websocket.user_agent");
    EXPECT_EQ(e->reason, "must not contain CR or LF");

    c = {};
    EXPECT_TRUE(c.websocket.verify_certificate) << "certificates are verified by default";
    EXPECT_EQ(c.websocket.tls_context, nullptr);
}

TEST(ClientConfigValidate, TheFirstBadFieldIsReported) {
    client_config c;
    c.connect_timeout = duration::zero();
    c.probe_timeout = duration::zero();
    ASSERT_TRUE(validate(c).has_value());
    EXPECT_EQ(validate(c)->field, "client_config.connect_timeout");
}

} // namespace
