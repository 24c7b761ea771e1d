// The supervisor machine on a fake clock: failover order, back-off, reconnect budget, session
// events and counters. Give-up and fatal endings, failback, and close/cancel have their own
// files. Each step asserts the exact actions, times and events.
#include "supervisor_fsm_harness.hpp"

#include <heartbeat/core/backoff.hpp>

#include <gtest/gtest.h>

namespace {

using namespace heartbeat;
using namespace heartbeat::test;
using state = supervisor_fsm::state;

TEST(SupervisorFsm, StartsWithTheMostPreferredEndpoint) {
    fsm_harness h(3);
    EXPECT_EQ(h.fsm.current_state(), state::idle);
    EXPECT_EQ(h.step(at(0), sv::start{}), (lines{"emit connecting a #1", "connect a"}));
    EXPECT_EQ(h.fsm.current_state(), state::connecting);
    EXPECT_EQ(h.fsm.timer(), time_point::max());
    // A second start changes nothing.
    EXPECT_EQ(h.step(at(1), sv::start{}), lines{});
}

TEST(SupervisorFsm, ZeroEndpointsIsRejected) {
    EXPECT_THROW(supervisor_fsm({}, plain_config()), std::invalid_argument);
}

TEST(SupervisorFsm, FailedConnectsFailOverInOrderThenTheRoundBacksOff) {
    fsm_harness h(3);
    h.step(at(0), sv::start{});
    EXPECT_EQ(h.step(at(10), refused()),
              (lines{"emit closed a connection_refused", "emit failover a->b",
                     "emit connecting b #2", "connect b"}));
    EXPECT_EQ(h.step(at(20), refused()),
              (lines{"emit closed b connection_refused", "emit failover b->c",
                     "emit connecting c #3", "connect c"}));
    // Every endpoint failed in a row: back off (u = 0.5 of the 100 ms base), then start over
    // at the most preferred one.
    EXPECT_EQ(h.step(at(30), refused()),
              (lines{"emit closed c connection_refused", "emit failover c->a",
                     "emit reconnecting #3 delay=50ms", "wait_until 80ms"}));
    EXPECT_EQ(h.fsm.current_state(), state::backing_off);
    EXPECT_EQ(h.step(at(80), sv::timer_fired{}), (lines{"emit connecting a #4", "connect a"}));
    EXPECT_EQ(h.step(at(90), refused()),
              (lines{"emit closed a connection_refused", "emit failover a->b",
                     "emit connecting b #5", "connect b"}));
}

// Every event carries the time of the input that caused it: the application can tell how long
// the client waited between two events however late their callbacks ran.
TEST(SupervisorFsm, EventsCarryTheTimeOfTheirInput) {
    fsm_harness h(1);
    std::vector<time_point> times;
    const auto times_of = [&](const std::vector<sv::action>& actions) {
        for (const auto& a : actions)
            if (const auto* e = std::get_if<sv::emit>(&a))
                times.push_back(e->event.at);
    };
    times_of(h.fsm.resume(at(0), sv::start{}));
    times_of(h.fsm.resume(at(5), refused()));
    times_of(h.fsm.resume(at(55), sv::timer_fired{}));
    // connecting; closed and reconnecting (delay 50 ms); connecting.
    EXPECT_EQ(times, (std::vector<time_point>{at(0), at(5), at(5), at(55)}));
}

TEST(SupervisorFsm, OneEndpointBacksOffAfterEveryFailureWithoutFailover) {
    fsm_harness h(1);
    h.step(at(0), sv::start{});
    EXPECT_EQ(h.step(at(5), refused()),
              (lines{"emit closed a connection_refused", "emit reconnecting #1 delay=50ms",
                     "wait_until 55ms"}));
    EXPECT_EQ(h.fsm.counters().failovers, 0u);
}

TEST(SupervisorFsm, ATimerFiringEarlyDoesNotCutTheBackOffShort) {
    fsm_harness h(1);
    h.step(at(0), sv::start{});
    h.step(at(0), refused()); // waits until 50 ms
    EXPECT_EQ(h.step(at(30), sv::timer_fired{}), (lines{"wait_until 50ms"}));
    EXPECT_EQ(h.fsm.current_state(), state::backing_off);
    EXPECT_EQ(h.step(at(50), sv::timer_fired{}), (lines{"emit connecting a #2", "connect a"}));
}

TEST(SupervisorFsm, BackOffDoublesUpToTheCap) {
    fsm_harness h(1); // bases 100, 200, 400, 800, then the 1 s cap; u = 0.5
    h.step(at(0), sv::start{});
    long long t = 0;
    const long long delays[] = {50, 100, 200, 400, 500, 500};
    unsigned attempt = 1;
    for (const long long d : delays) {
        EXPECT_EQ(h.step(at(t), refused()), (lines{"emit closed a connection_refused",
                                                   "emit reconnecting #" + std::to_string(attempt) +
                                                       " delay=" + std::to_string(d) + "ms",
                                                   "wait_until " + std::to_string(t + d) + "ms"}));
        t += d;
        ++attempt;
        EXPECT_EQ(h.step(at(t), sv::timer_fired{}),
                  (lines{"emit connecting a #" + std::to_string(attempt), "connect a"}));
    }
}

TEST(SupervisorFsm, FullJitterDrawsEachDelayFromTheUniformSource) {
    fsm_harness h(1, plain_config(), scripted_uniform({0.0, 0.25, 0.75}));
    h.step(at(0), sv::start{});
    EXPECT_EQ(h.step(at(0), refused())[1], "emit reconnecting #1 delay=0ms"); // 0 * 100
    h.step(at(0), sv::timer_fired{});
    EXPECT_EQ(h.step(at(0), refused())[1], "emit reconnecting #2 delay=50ms"); // 0.25 * 200
    h.step(at(50), sv::timer_fired{});
    EXPECT_EQ(h.step(at(50), refused())[1], "emit reconnecting #3 delay=300ms"); // 0.75 * 400
}

TEST(SupervisorFsm, ASeededSourceGivesTheDelaysOfABackoffWithTheSameSeed) {
    const client_config cfg = plain_config();
    fsm_harness h(2, cfg, seeded_uniform_source(42));
    backoff expected(cfg.backoff, seeded_uniform_source(42));
    h.step(at(0), sv::start{});
    time_point now = at(0);
    for (unsigned round = 1; round <= 8; ++round) {
        h.step(now, refused()); // a -> b
        const auto out = h.step(now, refused());
        const duration d = expected.next_delay();
        ASSERT_EQ(out.size(), 4u);
        EXPECT_EQ(out[2], "emit reconnecting #" + std::to_string(2 * round) + " delay=" + spell(d));
        EXPECT_EQ(out[3], "wait_until " + spell(now + d));
        now += d;
        EXPECT_EQ(h.step(now, sv::timer_fired{}),
                  (lines{"emit connecting a #" + std::to_string(2 * round + 1), "connect a"}));
    }
}

// Grows the base to 400 ms with two failures, then connects at 160 ms.
void two_failures_then_a_session(fsm_harness& h) {
    h.step(at(0), sv::start{});
    h.step(at(0), refused());           // delay 50
    h.step(at(50), sv::timer_fired{});  // attempt 2
    h.step(at(60), refused());          // delay 100
    h.step(at(160), sv::timer_fired{}); // attempt 3
    ASSERT_EQ(h.step(at(160), connected_ok()), (lines{"start_session a"}));
    ASSERT_EQ(h.step(at(170), handshake()), (lines{"emit connected a", "emit alive a"}));
}

TEST(SupervisorFsm, ASessionThatLivedResetAfterResetsTheBackOff) {
    fsm_harness h(1);
    two_failures_then_a_session(h);
    EXPECT_EQ(h.step(at(5160), ended(error::peer_closed)),
              (lines{"emit closed a peer_closed", "emit reconnecting #3 delay=50ms",
                     "wait_until 5210ms"}));
}

TEST(SupervisorFsm, AShorterSessionKeepsTheBackOffGrowing) {
    fsm_harness h(1);
    two_failures_then_a_session(h);
    EXPECT_EQ(h.step(at(5159), ended(error::peer_closed)),
              (lines{"emit closed a peer_closed", "emit reconnecting #3 delay=200ms",
                     "wait_until 5359ms"}));
}

TEST(SupervisorFsm, ADeadSessionFailsOverWithoutBackOffWhileEndpointsRemain) {
    fsm_harness h(2);
    h.step(at(0), sv::start{});
    h.step(at(0), connected_ok());
    h.step(at(10), handshake());
    EXPECT_EQ(h.step(at(900), ended(error::peer_dead)),
              (lines{"emit closed a peer_dead", "emit failover a->b", "emit connecting b #2",
                     "connect b"}));
}

TEST(SupervisorFsm, TheReconnectBudgetDelaysReconnectsButNotTheFirstConnect) {
    reconnect_budget budget({.rate_per_second = 4.0, .burst = 1.0});
    budget.reserve(at(0)); // another client took the only token
    fsm_harness h(2, with_budget(budget));
    EXPECT_EQ(h.step(at(0), sv::start{}), (lines{"emit connecting a #1", "connect a"}));
    // The reconnect owes a token: 1 / 4 per second.
    EXPECT_EQ(h.step(at(0), refused()), (lines{"emit closed a connection_refused",
                                               "emit failover a->b", "wait_until 250ms"}));
    EXPECT_EQ(h.fsm.current_state(), state::budget_wait);
    EXPECT_EQ(h.step(at(100), sv::timer_fired{}), (lines{"wait_until 250ms"}));
    EXPECT_EQ(h.step(at(250), sv::timer_fired{}), (lines{"emit connecting b #2", "connect b"}));
}

TEST(SupervisorFsm, WithoutTheBudgetReconnectsDoNotWait) {
    reconnect_budget budget({.rate_per_second = 4.0, .burst = 1.0});
    budget.reserve(at(0));
    client_config cfg = with_budget(budget);
    cfg.use_reconnect_budget = false;
    fsm_harness h(2, cfg);
    h.step(at(0), sv::start{});
    EXPECT_EQ(h.step(at(0), refused()),
              (lines{"emit closed a connection_refused", "emit failover a->b",
                     "emit connecting b #2", "connect b"}));
    EXPECT_EQ(budget.reserve(at(0)), milliseconds(250)) << "the machine took a token";
}

TEST(SupervisorFsm, SessionCallbacksBecomeEventsOfItsEndpoint) {
    fsm_harness h(2);
    h.step(at(0), sv::start{});
    h.step(at(10), refused());
    EXPECT_EQ(h.step(at(20), connected_ok()), (lines{"start_session b", "wait_until 520ms"}));
    EXPECT_EQ(h.step(at(30), handshake()), (lines{"emit connected b", "emit alive b"}));
    EXPECT_EQ(h.step(at(40), sv::session_state_changed{peer_state::alive, peer_state::suspect, 1}),
              (lines{"emit suspect b missed=1"}));
    EXPECT_EQ(h.step(at(50), sv::session_state_changed{peer_state::suspect, peer_state::alive, 0}),
              (lines{"emit alive b"}));
    EXPECT_EQ(h.step(at(60), sv::session_rtt{milliseconds(12), milliseconds(10)}),
              (lines{"emit rtt b rtt=12ms srtt=10ms"}));
    verdict v;
    v.reason = error::peer_dead;
    v.missed = 3;
    v.silence = milliseconds(400);
    EXPECT_EQ(h.step(at(70), sv::session_verdict{v}),
              (lines{"emit dead b missed=3 silence=400ms peer_dead"}));
    EXPECT_EQ(h.fsm.counters().verdicts, 1u);
}

TEST(SupervisorFsm, SessionCallbacksOutsideASessionAreIgnored) {
    fsm_harness h(1);
    h.step(at(0), sv::start{});
    EXPECT_EQ(h.step(at(1), sv::session_rtt{milliseconds(1), milliseconds(1)}), lines{});
    EXPECT_EQ(h.step(at(1), handshake()), lines{});
    EXPECT_EQ(h.step(at(1), ended(error::peer_closed)), lines{});
    EXPECT_EQ(h.step(at(1), sv::probe_done{1, true}), lines{});
    EXPECT_EQ(h.step(at(1), sv::drained{}), lines{});
    EXPECT_EQ(h.fsm.current_state(), state::connecting);
}

TEST(SupervisorFsm, CountersFollowAttemptsSessionsAndDowntime) {
    fsm_harness h(2);
    h.step(at(0), sv::start{});
    h.step(at(10), refused());      // a failed: failover to b
    h.step(at(20), connected_ok()); // session 1 on b; the first session's wait is no downtime
    auto c = h.fsm.counters();
    EXPECT_EQ(c.attempts, 2u);
    EXPECT_EQ(c.connect_failures, 1u);
    EXPECT_EQ(c.sessions, 1u);
    EXPECT_EQ(c.failovers, 1u);
    EXPECT_TRUE(c.connected);
    EXPECT_EQ(c.endpoint, 1u);
    EXPECT_EQ(c.downtime, duration::zero());
    h.step(at(30), handshake());
    h.step(at(1000), ended(error::peer_dead)); // b -> a at once
    EXPECT_FALSE(h.fsm.counters().connected);
    h.step(at(1250), connected_ok()); // session 2 on a: 250 ms down
    c = h.fsm.counters();
    EXPECT_EQ(c.attempts, 3u);
    EXPECT_EQ(c.sessions, 2u);
    EXPECT_EQ(c.failovers, 2u);
    EXPECT_EQ(c.endpoint, 0u);
    EXPECT_EQ(c.downtime, milliseconds(250));
    EXPECT_EQ(c.failbacks, 0u);
}

} // namespace
