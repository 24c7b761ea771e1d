// The supervisor machine's give-up rules on a fake clock: client_config::give_up (attempts in a
// row, downtime) and the fatal endings of is_fatal (invalid_config at once; the others once per
// endpoint in a row).
#include "supervisor_fsm_harness.hpp"

#include <gtest/gtest.h>

#include <ostream>

namespace heartbeat {
// Names the parameter in test listings ("unsupported_version", not its bytes).
inline void PrintTo(error e, std::ostream* out) {
    *out << error_name(make_error_code(e));
}
} // namespace heartbeat

namespace {

using namespace heartbeat;
using namespace heartbeat::test;
using state = supervisor_fsm::state;

client_config giving_up(unsigned max_attempts, duration max_downtime = duration::zero()) {
    client_config c = plain_config();
    c.give_up.max_attempts = max_attempts;
    c.give_up.max_downtime = max_downtime;
    return c;
}

TEST(SupervisorFsmGiveUp, AfterMaxAttemptsFailedInARow) {
    fsm_harness h(2, giving_up(3));
    h.step(at(0), sv::start{});
    h.step(at(10), refused()); // 1: a -> b
    h.step(at(20), refused()); // 2: b -> a, back-off 50 ms
    h.step(at(70), sv::timer_fired{});
    EXPECT_EQ(h.step(at(80), refused()),
              (lines{"emit closed a connection_refused", "emit gave_up all_endpoints_failed",
                     "finish all_endpoints_failed"}));
    EXPECT_EQ(h.fsm.current_state(), state::finished);
    EXPECT_EQ(h.fsm.timer(), time_point::max());
    EXPECT_EQ(h.step(at(90), sv::timer_fired{}), lines{}) << "finished: inputs are ignored";
    EXPECT_EQ(h.step(at(90), sv::close_requested{}), lines{});
}

TEST(SupervisorFsmGiveUp, ASessionThatEndsBeforeItsHandshakeIsAFailedAttempt) {
    fsm_harness h(1, giving_up(2));
    h.step(at(0), sv::start{});
    h.step(at(0), connected_ok()); // accepted, then dropped before the peer's HELLO
    EXPECT_EQ(
        h.step(at(5), ended(error::peer_closed)),
        (lines{"emit closed a peer_closed", "emit reconnecting #1 delay=50ms", "wait_until 55ms"}));
    h.step(at(55), sv::timer_fired{});
    h.step(at(55), connected_ok());
    EXPECT_EQ(h.step(at(60), ended(error::peer_closed)),
              (lines{"emit closed a peer_closed", "emit gave_up all_endpoints_failed",
                     "finish all_endpoints_failed"}));
}

TEST(SupervisorFsmGiveUp, AnEstablishedSessionStartsTheAttemptCountOver) {
    fsm_harness h(1, giving_up(2));
    h.step(at(0), sv::start{});
    h.step(at(0), refused()); // 1 failed
    h.step(at(50), sv::timer_fired{});
    h.step(at(50), connected_ok());
    h.step(at(60), handshake());
    h.step(at(100), ended(error::peer_dead)); // established: the count starts over
    h.step(at(300), sv::timer_fired{});       // back-off 100 ms, then 200 ms
    EXPECT_EQ(h.step(at(300), refused()),
              (lines{"emit closed a connection_refused", "emit reconnecting #3 delay=200ms",
                     "wait_until 500ms"}));
    h.step(at(500), sv::timer_fired{});
    EXPECT_EQ(h.step(at(500), refused()),
              (lines{"emit closed a connection_refused", "emit gave_up all_endpoints_failed",
                     "finish all_endpoints_failed"}));
}

TEST(SupervisorFsmGiveUp, AfterMaxDowntimeSinceTheStart) {
    fsm_harness h(1, giving_up(0, seconds(1)));
    h.step(at(0), sv::start{});
    h.step(at(0), refused());
    h.step(at(999), sv::timer_fired{});
    EXPECT_EQ(h.step(at(999), refused()),
              (lines{"emit closed a connection_refused", "emit reconnecting #2 delay=100ms",
                     "wait_until 1099ms"}));
    h.step(at(1099), sv::timer_fired{});
    EXPECT_EQ(h.step(at(1099), refused()),
              (lines{"emit closed a connection_refused", "emit gave_up all_endpoints_failed",
                     "finish all_endpoints_failed"}));
}

TEST(SupervisorFsmGiveUp, MaxDowntimeCountsFromTheEndOfTheLastEstablishedSession) {
    fsm_harness h(2, giving_up(0, seconds(1)));
    h.step(at(0), sv::start{});
    h.step(at(0), connected_ok());
    h.step(at(10), handshake());
    h.step(at(60'000), ended(error::peer_dead)); // a -> b
    EXPECT_EQ(h.step(at(60'500), refused()),
              (lines{"emit closed b connection_refused", "emit failover b->a",
                     "emit reconnecting #2 delay=50ms", "wait_until 60550ms"}));
    h.step(at(60'550), sv::timer_fired{});
    EXPECT_EQ(h.step(at(61'000), refused()),
              (lines{"emit closed a connection_refused", "emit gave_up all_endpoints_failed",
                     "finish all_endpoints_failed"}));
}

TEST(SupervisorFsmGiveUp, InvalidConfigEndsTheRunAtOnceWhateverTheEndpoints) {
    fsm_harness h(3);
    h.step(at(0), sv::start{});
    EXPECT_EQ(h.step(at(1), sv::connect_done{make_error_code(error::invalid_config)}),
              (lines{"emit closed a invalid_config", "emit gave_up invalid_config",
                     "finish invalid_config"}));
}

// The fatal endings another endpoint may not share.
class SupervisorFsmFatal : public ::testing::TestWithParam<error> {};

TEST_P(SupervisorFsmFatal, OneEndpointGivesUpAfterOneAttempt) {
    fsm_harness h(1);
    h.step(at(0), sv::start{});
    const std::string name = error_name(make_error_code(GetParam()));
    EXPECT_EQ(h.step(at(1), sv::connect_done{make_error_code(GetParam())}),
              (lines{"emit closed a " + name, "emit gave_up " + name, "finish " + name}));
}

TEST_P(SupervisorFsmFatal, GivesUpOnceEveryEndpointEndedSoInARow) {
    fsm_harness h(3);
    h.step(at(0), sv::start{});
    const auto fatal = sv::connect_done{make_error_code(GetParam())};
    const std::string name = error_name(fatal.ec);
    EXPECT_EQ(h.step(at(1), fatal), (lines{"emit closed a " + name, "emit failover a->b",
                                           "emit connecting b #2", "connect b"}));
    EXPECT_EQ(h.step(at(2), fatal), (lines{"emit closed b " + name, "emit failover b->c",
                                           "emit connecting c #3", "connect c"}));
    EXPECT_EQ(h.step(at(3), fatal),
              (lines{"emit closed c " + name, "emit gave_up " + name, "finish " + name}));
}

TEST_P(SupervisorFsmFatal, ACompatibleEndpointFurtherDownIsStillTried) {
    fsm_harness h(3);
    h.step(at(0), sv::start{});
    const auto fatal = sv::connect_done{make_error_code(GetParam())};
    h.step(at(1), fatal);
    h.step(at(2), fatal);
    EXPECT_EQ(h.fsm.endpoint(), 2u);
    EXPECT_EQ(h.step(at(3), connected_ok()), (lines{"start_session c", "wait_until 503ms"}));
    EXPECT_EQ(h.step(at(4), handshake()), (lines{"emit connected c", "emit alive c"}));
}

TEST_P(SupervisorFsmFatal, AnotherEndingBetweenBreaksTheRow) {
    fsm_harness h(2);
    h.step(at(0), sv::start{});
    const auto fatal = sv::connect_done{make_error_code(GetParam())};
    h.step(at(1), fatal);     // a: 1 in a row
    h.step(at(2), refused()); // b: the row is broken; back-off
    h.step(at(52), sv::timer_fired{});
    h.step(at(53), fatal); // a: 1
    EXPECT_EQ(h.step(at(54), fatal), (lines{"emit closed b " + std::string(error_name(fatal.ec)),
                                            "emit gave_up " + std::string(error_name(fatal.ec)),
                                            "finish " + std::string(error_name(fatal.ec))}));
}

TEST_P(SupervisorFsmFatal, ASessionEndingSoBeforeItsHandshakeCountsToo) {
    fsm_harness h(1);
    h.step(at(0), sv::start{});
    h.step(at(0), connected_ok()); // native: the HELLO exchange runs inside the session
    const std::string name = error_name(make_error_code(GetParam()));
    EXPECT_EQ(h.step(at(5), sv::session_ended{make_error_code(GetParam())}),
              (lines{"emit closed a " + name, "emit gave_up " + name, "finish " + name}));
}

INSTANTIATE_TEST_SUITE_P(Endings, SupervisorFsmFatal,
                         ::testing::Values(error::unsupported_version, error::incompatible_interval,
                                           error::authentication_failed, error::not_authorized,
                                           error::client_id_rejected),
                         [](const ::testing::TestParamInfo<error>& info) {
                             return std::string(error_name(make_error_code(info.param)));
                         });

TEST(SupervisorFsmGiveUp, EndingsThatAreNotFatalAreRetriedForever) {
    for (const error e : {error::server_unavailable, error::handshake_failed,
                          error::handshake_timeout, error::connect_timeout, error::peer_dead}) {
        fsm_harness h(1);
        h.step(at(0), sv::start{});
        const std::string name = error_name(make_error_code(e));
        EXPECT_EQ(
            h.step(at(1), sv::connect_done{make_error_code(e)}),
            (lines{"emit closed a " + name, "emit reconnecting #1 delay=50ms", "wait_until 51ms"}))
            << name;
    }
}

} // namespace
