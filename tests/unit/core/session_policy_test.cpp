// The session policies that used to live in the drivers, step by step on a fake clock: ping
// policing, ACK cadence, interval negotiation and the choice of close code.
#include <heartbeat/core/ack_schedule.hpp>
#include <heartbeat/core/close_code.hpp>
#include <heartbeat/core/interval_negotiation.hpp>
#include <heartbeat/core/ping_policer.hpp>

#include <boost/asio/error.hpp>
#include <gtest/gtest.h>

namespace {

using namespace heartbeat;
using namespace std::chrono_literals;
using ruling = ping_policer::ruling;

const time_point t0 = time_point{} + 1h;

TEST(PingPolicer, DisabledAcceptsAnyRate) {
    ping_policer p(duration::zero(), 2);
    EXPECT_FALSE(p.enabled());
    for (int i = 0; i < 10; ++i)
        EXPECT_EQ(p.on_peer_ping(t0), ruling::accept);
    EXPECT_EQ(p.strikes(), 0u);
}

TEST(PingPolicer, FirstPingIsNeverAStrike) {
    ping_policer p(1s, 0);
    EXPECT_EQ(p.on_peer_ping(t0), ruling::accept);
}

TEST(PingPolicer, StrikeBelowEightyPercentThenTooManyAfterMaxStrikes) {
    ping_policer p(1s, 2);
    EXPECT_EQ(p.on_peer_ping(t0), ruling::accept);
    EXPECT_EQ(p.on_peer_ping(t0 + 799ms), ruling::slow_down);
    EXPECT_EQ(p.strikes(), 1u);
    EXPECT_EQ(p.on_peer_ping(t0 + 1598ms), ruling::slow_down);
    EXPECT_EQ(p.strikes(), 2u);
    EXPECT_EQ(p.on_peer_ping(t0 + 2397ms), ruling::too_many_pings);
}

TEST(PingPolicer, EightyPercentExactlyIsAcceptedAndClearsStrikes) {
    ping_policer p(1s, 1);
    EXPECT_EQ(p.on_peer_ping(t0), ruling::accept);
    EXPECT_EQ(p.on_peer_ping(t0 + 100ms), ruling::slow_down);
    EXPECT_EQ(p.on_peer_ping(t0 + 900ms), ruling::accept); // 800 ms after the last one
    EXPECT_EQ(p.strikes(), 0u);
    EXPECT_EQ(p.on_peer_ping(t0 + 1000ms), ruling::slow_down); // the count started again
    EXPECT_EQ(p.on_peer_ping(t0 + 1100ms), ruling::too_many_pings);
}

TEST(AckSchedule, DelayedAckOnceThenPiggybackOrAlone) {
    ack_schedule a(5ms);
    a.reset(10);
    EXPECT_FALSE(a.pending());
    EXPECT_EQ(a.on_delivered(11, t0), ack_schedule::action::send_at);
    EXPECT_EQ(a.due(), t0 + 5ms);
    // More messages before it went: the deadline stays where it was.
    EXPECT_EQ(a.on_delivered(12, t0 + 1ms), ack_schedule::action::none);
    EXPECT_EQ(a.due(), t0 + 5ms);
    EXPECT_FALSE(a.due_by(t0 + 4ms));
    EXPECT_TRUE(a.due_by(t0 + 5ms));
    EXPECT_EQ(a.take(), std::optional<std::uint64_t>(12));
    EXPECT_FALSE(a.pending());
    EXPECT_EQ(a.take(), std::nullopt);
    // The next delivery gets a fresh deadline.
    EXPECT_EQ(a.on_delivered(13, t0 + 9ms), ack_schedule::action::send_at);
    EXPECT_EQ(a.due(), t0 + 14ms);
}

TEST(AckSchedule, BatchOfSixtyFourGoesAtOnce) {
    ack_schedule a(5ms);
    a.reset(0);
    EXPECT_EQ(a.on_delivered(63, t0), ack_schedule::action::send_at);
    EXPECT_EQ(a.on_delivered(64, t0), ack_schedule::action::send_now);
    EXPECT_EQ(a.take(), std::optional<std::uint64_t>(64));
    EXPECT_EQ(a.sent(), 64u);
}

TEST(AckSchedule, AWriteCarriesTheValueBeforeScheduleRuns) {
    ack_schedule a(5ms);
    a.reset(0);
    a.delivered(1); // the application took message 1 and replied at once
    EXPECT_EQ(a.take(), std::optional<std::uint64_t>(1));
    EXPECT_EQ(a.schedule(t0), ack_schedule::action::none); // nothing left to acknowledge
    EXPECT_FALSE(a.pending());
}

TEST(AckSchedule, ResetMarksEverythingKnown) {
    ack_schedule a(5ms);
    a.reset(0);
    EXPECT_EQ(a.on_delivered(3, t0), ack_schedule::action::send_at);
    a.reset(7);
    EXPECT_FALSE(a.pending());
    EXPECT_EQ(a.delivered(), 7u);
    EXPECT_EQ(a.on_delivered(8, t0 + 1ms), ack_schedule::action::send_at);
}

TEST(IntervalNegotiation, KeepsOursInsideThePeersRange) {
    const auto n = negotiate_interval(2s, 1s, 5s);
    EXPECT_FALSE(n.ec);
    EXPECT_EQ(n.interval, 2s);
}

TEST(IntervalNegotiation, SlowsDownToThePeersFloor) {
    EXPECT_EQ(negotiate_interval(200ms, 1s, 0s).interval, 1s);
}

TEST(IntervalNegotiation, SpeedsUpToThePeersCeiling) {
    EXPECT_EQ(negotiate_interval(10s, 0s, 3s).interval, 3s);
    EXPECT_EQ(negotiate_interval(10s, 0s, 0s).interval, 10s); // no ceiling
}

TEST(IntervalNegotiation, EmptyRangeIsIncompatible) {
    const auto n = negotiate_interval(2s, 5s, 3s);
    EXPECT_EQ(n.ec, error::incompatible_interval);
}

TEST(IntervalNegotiation, OurCapBoundsHowFarThePeerSlowsUsDown) {
    EXPECT_EQ(negotiate_interval(1s, 4s, 0s, 4s).interval, 4s); // up to the cap: accepted
    const auto n = negotiate_interval(1s, 4001ms, 0s, 4s);      // beyond it: refused
    EXPECT_EQ(n.ec, error::incompatible_interval);
    EXPECT_EQ(negotiate_interval(1s, 1h, 0s, 0s).interval, 1h); // no cap: as before
}

TEST(IntervalNegotiation, EqualBoundsPinTheInterval) {
    EXPECT_EQ(negotiate_interval(10s, 4s, 4s).interval, 4s);
    EXPECT_EQ(negotiate_interval(1s, 4s, 4s).interval, 4s);
}

TEST(CloseCode, OneTableForEveryReason) {
    EXPECT_EQ(close_code_for(error::session_closed), close_codes::normal);
    EXPECT_EQ(close_code_for(error::peer_closed), close_codes::normal);
    EXPECT_EQ(close_code_for(error::peer_dead), close_codes::internal_error);
    EXPECT_EQ(close_code_for(error::too_many_pings), close_codes::policy_violation);
    EXPECT_EQ(close_code_for(error::message_too_large), close_codes::message_too_big);
    EXPECT_EQ(close_code_for(error::frame_too_large), close_codes::message_too_big);
    EXPECT_EQ(close_code_for(error::malformed_frame), close_codes::protocol_error);
    EXPECT_EQ(close_code_for(error::handshake_timeout), close_codes::protocol_error);
    EXPECT_EQ(close_code_for(error::unexpected_reply), close_codes::protocol_error);
    EXPECT_EQ(close_code_for(boost::asio::error::connection_reset), close_codes::internal_error);
}

TEST(CloseCode, GoodbyeOnlyForTheLibrarysOwnReasons) {
    EXPECT_TRUE(says_goodbye(error::peer_dead));
    EXPECT_TRUE(says_goodbye(error::session_closed));
    EXPECT_FALSE(says_goodbye(boost::asio::error::operation_aborted));
    EXPECT_FALSE(says_goodbye(boost::asio::error::eof));
}

} // namespace
