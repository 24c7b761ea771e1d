// The HELLO rules every native session shares (basic_session's profile, session_pool members).
#include <heartbeat/core/error.hpp>
#include <heartbeat/protocol/native/hello_rules.hpp>

#include <gtest/gtest.h>

namespace {

using namespace heartbeat;
using namespace std::chrono_literals;

session_config config_with_interval(duration interval) {
    session_config c;
    c.heartbeat.interval = interval;
    return c;
}

TEST(HelloRules, OurHelloAnnouncesTheRangeWeAcceptOurFeaturesAndOurFirstSequenceNumber) {
    session_config c = config_with_interval(1s);
    c.min_peer_ping_interval = 250ms;
    c.max_peer_ping_interval = 5s;
    c.session_id = 77;
    c.first_seq = 9;
    EXPECT_EQ(hello_of(c), (hello_frame{protocol_version, 250, 5000, 77, feature_timed_ack, 9}));
}

TEST(HelloRules, WireMillisecondsAreClampedToThirtyTwoBits) {
    EXPECT_EQ(to_wire_ms32(-5ms), 0u);
    EXPECT_EQ(to_wire_ms32(1500us), 1u);
    EXPECT_EQ(to_wire_ms32(std::chrono::hours(24 * 365 * 200)), 0xFFFFFFFFu);
}

TEST(HelloRules, OurIntervalMayStretchToTheConfiguredCapOrFourTimesItself) {
    session_config c = config_with_interval(1s);
    EXPECT_EQ(max_negotiated_interval_of(c), 4s);
    c.max_negotiated_interval = 2500ms;
    EXPECT_EQ(max_negotiated_interval_of(c), 2500ms);
}

TEST(HelloRules, AnAcceptableHelloGivesTheNegotiatedInterval) {
    const session_config c = config_with_interval(1s);
    hello_frame h;
    EXPECT_EQ(accept_hello(c, h).ec, boost::system::error_code{});
    EXPECT_EQ(accept_hello(c, h).interval, 1s);
    h.min_interval_ms = 3000; // the peer polices pings faster than 3 s: we slow down
    EXPECT_EQ(accept_hello(c, h).interval, 3s);
    h.min_interval_ms = 0;
    h.max_interval_ms = 400; // the peer wants a ping at least every 400 ms: we speed up
    EXPECT_EQ(accept_hello(c, h).interval, 400ms);
}

TEST(HelloRules, ABadHelloIsRefusedWithItsNamedError) {
    const session_config c = config_with_interval(1s);
    hello_frame other_version;
    other_version.version = protocol_version + 1;
    EXPECT_EQ(accept_hello(c, other_version).ec, error::unsupported_version);
    hello_frame no_first_seq;
    no_first_seq.first_seq = 0;
    EXPECT_EQ(accept_hello(c, no_first_seq).ec, error::malformed_frame);
    hello_frame too_slow; // asks us to ping every 5 s: beyond our cap of 4 x 1 s
    too_slow.min_interval_ms = 5000;
    EXPECT_EQ(accept_hello(c, too_slow).ec, error::incompatible_interval);
    hello_frame empty_range;
    empty_range.min_interval_ms = 2000;
    empty_range.max_interval_ms = 1000;
    EXPECT_EQ(accept_hello(c, empty_range).ec, error::incompatible_interval);
}

} // namespace
