// The supervisor machine's failback on a fake clock: probes of the more preferred endpoints one
// at a time, healthy_probes consecutive good probes AND min_dwell, a bad probe starting the
// count over, drain before the switch (or its timeout), stale probe results.
#include "supervisor_fsm_harness.hpp"

#include <gtest/gtest.h>

namespace {

using namespace heartbeat;
using namespace heartbeat::test;
using state = supervisor_fsm::state;

// a refuses, the session on b starts at t = 0 and completes its handshake. Probes are due every
// 500 ms from then on; the dwell on b ends at 2000 ms.
void on_b(fsm_harness& h) {
    h.step(at(0), sv::start{});
    ASSERT_EQ(h.step(at(0), refused()),
              (lines{"emit closed a connection_refused", "emit failover a->b",
                     "emit connecting b #2", "connect b"}));
    ASSERT_EQ(h.step(at(0), connected_ok()), (lines{"start_session b", "wait_until 500ms"}));
    ASSERT_EQ(h.step(at(0), handshake()), (lines{"emit connected b", "emit alive b"}));
}

// Probe `n` starts at `t` and reports `healthy` 10 ms later; returns what that report did.
lines probe(fsm_harness& h, long long t, std::uint64_t n, bool healthy) {
    const lines started = h.step(at(t), sv::timer_fired{});
    EXPECT_FALSE(started.empty());
    if (!started.empty())
        EXPECT_EQ(started.front(), "start_probe a #" + std::to_string(n)) << "at " << t;
    return h.step(at(t + 10), sv::probe_done{n, healthy});
}

TEST(SupervisorFsmFailback, ProbesEveryIntervalAndSwitchesAfterHealthyProbesAndTheDwell) {
    fsm_harness h(2);
    on_b(h);
    // One probe at a time: while it is out, only the end of the dwell may wake the machine.
    EXPECT_EQ(h.step(at(500), sv::timer_fired{}), (lines{"start_probe a #1", "wait_until 2000ms"}));
    EXPECT_EQ(h.step(at(510), sv::probe_done{1, true}), (lines{"wait_until 1000ms"}));
    EXPECT_EQ(h.step(at(1000), sv::timer_fired{}),
              (lines{"start_probe a #2", "wait_until 2000ms"}));
    EXPECT_EQ(h.step(at(1010), sv::probe_done{2, true}), (lines{"wait_until 1500ms"}));
    EXPECT_EQ(h.step(at(1500), sv::timer_fired{}),
              (lines{"start_probe a #3", "wait_until 2000ms"}));
    // Three healthy probes, but the dwell on b lasts until 2000 ms (already armed).
    EXPECT_EQ(h.step(at(1510), sv::probe_done{3, true}), lines{});
    EXPECT_EQ(h.fsm.timer(), at(2000));
    EXPECT_EQ(h.step(at(2000), sv::timer_fired{}),
              (lines{"drain_and_switch a", "wait_until 3000ms"}));
    EXPECT_EQ(h.step(at(2100), sv::drained{}), (lines{"close_session", "wait_until never"}));
    EXPECT_EQ(h.step(at(2200), ended(error::session_closed)),
              (lines{"emit closed b session_closed", "emit failback b->a", "emit connecting a #3",
                     "connect a"}));
    EXPECT_EQ(h.step(at(2300), connected_ok()), (lines{"start_session a"}));
    const auto c = h.fsm.counters();
    EXPECT_EQ(c.failbacks, 1u);
    EXPECT_EQ(c.failovers, 1u);
    EXPECT_EQ(c.sessions, 2u);
    EXPECT_EQ(c.endpoint, 0u);
}

TEST(SupervisorFsmFailback, ABadProbeStartsTheCountOver) {
    fsm_harness h(2);
    on_b(h);
    EXPECT_EQ(probe(h, 500, 1, true), (lines{"wait_until 1000ms"}));
    EXPECT_EQ(probe(h, 1000, 2, true), (lines{"wait_until 1500ms"}));
    EXPECT_EQ(probe(h, 1500, 3, false), lines{}); // 2000 ms: both the next probe and the dwell
    EXPECT_EQ(probe(h, 2000, 4, true), (lines{"wait_until 2500ms"})); // dwell over; 1 healthy
    EXPECT_EQ(probe(h, 2500, 5, true), (lines{"wait_until 3000ms"})); // 2
    EXPECT_EQ(probe(h, 3000, 6, true), (lines{"drain_and_switch a", "wait_until 4010ms"}));
}

TEST(SupervisorFsmFailback, ADrainThatTimesOutClosesTheSessionAnyway) {
    fsm_harness h(2);
    on_b(h);
    probe(h, 500, 1, true);
    probe(h, 1000, 2, true);
    probe(h, 1500, 3, true);
    ASSERT_EQ(h.step(at(2000), sv::timer_fired{}),
              (lines{"drain_and_switch a", "wait_until 3000ms"}));
    EXPECT_EQ(h.step(at(2999), sv::timer_fired{}), (lines{"wait_until 3000ms"}));
    EXPECT_EQ(h.step(at(3000), sv::timer_fired{}), (lines{"close_session"}));
    EXPECT_EQ(h.step(at(3001), sv::drained{}), lines{}) << "closed once";
    EXPECT_EQ(h.step(at(3050), ended(error::session_closed)),
              (lines{"emit closed b session_closed", "emit failback b->a", "emit connecting a #3",
                     "connect a"}));
}

TEST(SupervisorFsmFailback, ASessionThatEndsWhileDrainingStillFailsBack) {
    fsm_harness h(2);
    on_b(h);
    probe(h, 500, 1, true);
    probe(h, 1000, 2, true);
    probe(h, 1500, 3, true);
    h.step(at(2000), sv::timer_fired{});
    EXPECT_EQ(h.step(at(2100), ended(error::peer_dead)),
              (lines{"emit closed b peer_dead", "emit failback b->a", "emit connecting a #3",
                     "connect a", "wait_until never"}));
    EXPECT_EQ(h.fsm.counters().failovers, 1u);
}

// Bug fixed: the old loop re-armed its wake-up at the probe time while a probe was still out,
// and spun until the probe reported.
TEST(SupervisorFsmFailback, AProbeSlowerThanTheIntervalDelaysTheNextWithoutWakeUps) {
    fsm_harness h(2);
    on_b(h);
    EXPECT_EQ(h.step(at(500), sv::timer_fired{}), (lines{"start_probe a #1", "wait_until 2000ms"}));
    // Reports 1300 ms later, past the 1000 ms the next probe was due: it starts at once.
    EXPECT_EQ(h.step(at(1800), sv::probe_done{1, false}), (lines{"start_probe a #2"}));
    EXPECT_EQ(h.fsm.timer(), at(2000));
    EXPECT_EQ(h.step(at(2000), sv::timer_fired{}), lines{});
    EXPECT_EQ(h.fsm.timer(), time_point::max()) << "nothing to wait for but the probe";
    EXPECT_EQ(h.step(at(2300), sv::probe_done{2, false}), (lines{"start_probe a #3"}));
}

// Bug fixed: the old loop, past the dwell, woke at max(now, end of the dwell), i.e. at once,
// over and over, while on a less preferred endpoint.
TEST(SupervisorFsmFailback, AfterTheDwellOnlyTheNextProbeWakesTheMachine) {
    fsm_harness h(2);
    on_b(h);
    probe(h, 500, 1, false);
    probe(h, 1000, 2, false);
    probe(h, 1500, 3, false);
    EXPECT_EQ(probe(h, 2000, 4, false), (lines{"wait_until 2500ms"}));
    EXPECT_EQ(probe(h, 2500, 5, false), (lines{"wait_until 3000ms"}));
    EXPECT_EQ(h.step(at(2700), sv::timer_fired{}), (lines{"wait_until 3000ms"}));
}

TEST(SupervisorFsmFailback, AProbeResultOfAnEarlierSessionIsIgnored) {
    fsm_harness h(2);
    on_b(h);
    h.step(at(500), sv::timer_fired{}); // probe #1 of this session
    EXPECT_EQ(h.step(at(600), ended(error::peer_dead)),
              (lines{"emit closed b peer_dead", "emit failover b->a", "emit connecting a #3",
                     "connect a", "wait_until never"}));
    // a refuses: with b's failure that is a round, so a back-off, and a again.
    EXPECT_EQ(h.step(at(700), refused()),
              (lines{"emit closed a connection_refused", "emit reconnecting #3 delay=50ms",
                     "wait_until 750ms"}));
    h.step(at(750), sv::timer_fired{});
    EXPECT_EQ(h.step(at(760), refused()),
              (lines{"emit closed a connection_refused", "emit failover a->b",
                     "emit connecting b #5", "connect b"}));
    EXPECT_EQ(h.step(at(800), connected_ok()), (lines{"start_session b", "wait_until 1300ms"}));
    h.step(at(800), handshake());
    EXPECT_EQ(h.step(at(900), sv::probe_done{1, true}), lines{}) << "stale";
    probe(h, 1300, 2, true);
    probe(h, 1800, 3, true);
    EXPECT_EQ(h.step(at(2300), sv::timer_fired{}),
              (lines{"start_probe a #4", "wait_until 2800ms"}));
    // Dwell over with two healthy probes of this session: no failback yet.
    EXPECT_EQ(h.step(at(2800), sv::timer_fired{}), lines{});
    EXPECT_EQ(h.step(at(2810), sv::probe_done{4, true}),
              (lines{"drain_and_switch a", "wait_until 3810ms"}));
}

TEST(SupervisorFsmFailback, ProbesTakeTheMorePreferredEndpointsInTurn) {
    fsm_harness h(3);
    h.step(at(0), sv::start{});
    h.step(at(0), refused());
    h.step(at(0), refused()); // on c
    ASSERT_EQ(h.step(at(0), connected_ok()), (lines{"start_session c", "wait_until 500ms"}));
    EXPECT_EQ(h.step(at(500), sv::timer_fired{}), (lines{"start_probe a #1", "wait_until 2000ms"}));
    h.step(at(510), sv::probe_done{1, false});
    EXPECT_EQ(h.step(at(1000), sv::timer_fired{}),
              (lines{"start_probe b #2", "wait_until 2000ms"}));
    h.step(at(1010), sv::probe_done{2, true});
    EXPECT_EQ(h.step(at(1500), sv::timer_fired{}),
              (lines{"start_probe a #3", "wait_until 2000ms"}));
}

TEST(SupervisorFsmFailback, NothingIsProbedOnTheMostPreferredEndpointOrWithFailbackOff) {
    fsm_harness on_a(2);
    on_a.step(at(0), sv::start{});
    EXPECT_EQ(on_a.step(at(0), connected_ok()), (lines{"start_session a"}));
    EXPECT_EQ(on_a.fsm.timer(), time_point::max());

    client_config off = plain_config();
    off.endpoints.failback = false;
    fsm_harness h(2, off);
    h.step(at(0), sv::start{});
    h.step(at(0), refused());
    EXPECT_EQ(h.step(at(0), connected_ok()), (lines{"start_session b"}));
    EXPECT_EQ(h.fsm.timer(), time_point::max());
}

// Bug fixed: a failback did not count as the end of an established session, so the streak of
// failed attempts and the downtime from before it carried over, and the first failure after the
// switch could give up at once.
TEST(SupervisorFsmFailback, AFailbackFromAnEstablishedSessionStartsTheGiveUpRulesOver) {
    client_config c = plain_config();
    c.give_up.max_attempts = 2;
    c.give_up.max_downtime = seconds(2);
    fsm_harness h(2, c);
    on_b(h); // a's refusal was failed attempt 1, at 0 ms
    probe(h, 500, 1, true);
    probe(h, 1000, 2, true);
    probe(h, 1500, 3, true);
    h.step(at(2000), sv::timer_fired{});
    h.step(at(2000), sv::drained{});
    h.step(at(2100), ended(error::session_closed)); // failback; connecting to a
    EXPECT_EQ(h.step(at(2200), refused()),
              (lines{"emit closed a connection_refused", "emit failover a->b",
                     "emit connecting b #4", "connect b"}));
}

} // namespace
