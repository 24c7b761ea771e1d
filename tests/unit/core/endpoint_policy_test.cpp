#include <heartbeat/core/endpoint_policy.hpp>

#include <gtest/gtest.h>

#include <stdexcept>

namespace {

using namespace heartbeat;

time_point at(long long ms) {
    return time_point{} + milliseconds(ms);
}

// Connected to endpoint `target` after failing over from 0 at t = 0.
endpoint_policy connected_to(std::size_t count, std::size_t target, time_point when,
                             endpoint_policy_config cfg = {}) {
    endpoint_policy p(count, cfg);
    while (p.current() != target)
        p.on_failure(at(0));
    p.on_connected(when);
    return p;
}

void probe(endpoint_policy& p, std::size_t endpoint, bool healthy, int times, time_point now) {
    for (int i = 0; i < times; ++i)
        p.on_probe_result(endpoint, healthy, now);
}

TEST(EndpointPolicy, ZeroEndpointsIsRejected) {
    EXPECT_THROW(endpoint_policy(0, endpoint_policy_config{}), std::invalid_argument);
}

TEST(EndpointPolicy, StartsOnTheMostPreferredEndpoint) {
    endpoint_policy p(3, {});
    EXPECT_EQ(p.endpoint_count(), 3u);
    EXPECT_EQ(p.current(), 0u);
    EXPECT_FALSE(p.connected());
    EXPECT_FALSE(p.round_exhausted());
}

TEST(EndpointPolicy, FailoverFollowsTheOrderAndWraps) {
    endpoint_policy p(3, {});
    EXPECT_EQ(p.on_failure(at(0)), 1u);
    EXPECT_EQ(p.current(), 1u);
    p.on_connected(at(100));
    // The session on 1 dies; then 2 fails to connect: the order wraps to 0.
    EXPECT_EQ(p.on_failure(at(5000)), 2u);
    EXPECT_EQ(p.on_failure(at(5100)), 0u);
    EXPECT_FALSE(p.round_exhausted());
}

TEST(EndpointPolicy, RoundIsExhaustedAfterEveryEndpointFailed) {
    endpoint_policy p(3, {});
    p.on_failure(at(0));
    EXPECT_FALSE(p.round_exhausted());
    p.on_failure(at(10));
    EXPECT_FALSE(p.round_exhausted());
    EXPECT_EQ(p.on_failure(at(20)), 0u);
    EXPECT_TRUE(p.round_exhausted());
    // The next round starts at the most preferred endpoint and is fresh.
    EXPECT_EQ(p.on_failure(at(1000)), 1u);
    EXPECT_FALSE(p.round_exhausted());
    p.on_failure(at(1010));
    EXPECT_EQ(p.on_failure(at(1020)), 0u);
    EXPECT_TRUE(p.round_exhausted());
}

TEST(EndpointPolicy, RoundStartedMidListReturnsToTheMostPreferred) {
    endpoint_policy p(3, {});
    p.on_failure(at(0));
    p.on_connected(at(10)); // on 1
    EXPECT_EQ(p.on_failure(at(100)), 2u);
    EXPECT_EQ(p.on_failure(at(110)), 0u);
    EXPECT_FALSE(p.round_exhausted());
    // 0 was the third distinct failure since the connection: back to 0, not to 1.
    EXPECT_EQ(p.on_failure(at(120)), 0u);
    EXPECT_TRUE(p.round_exhausted());
}

TEST(EndpointPolicy, SuccessfulConnectionEndsTheRound) {
    endpoint_policy p(3, {});
    p.on_failure(at(0));
    p.on_failure(at(10));
    p.on_connected(at(20)); // on 2
    EXPECT_FALSE(p.round_exhausted());
    EXPECT_EQ(p.on_failure(at(30)), 0u);
    EXPECT_EQ(p.on_failure(at(40)), 1u);
    EXPECT_FALSE(p.round_exhausted());
    p.on_failure(at(50));
    EXPECT_TRUE(p.round_exhausted());
}

TEST(EndpointPolicy, ConnectingClearsAnExhaustedRound) {
    endpoint_policy p(2, {});
    p.on_failure(at(0));
    p.on_failure(at(10));
    ASSERT_TRUE(p.round_exhausted());
    p.on_connected(at(20));
    EXPECT_FALSE(p.round_exhausted());
}

TEST(EndpointPolicy, SingleEndpointExhaustsEveryFailureAndNeverProbes) {
    endpoint_policy p(1, {});
    EXPECT_EQ(p.on_failure(at(0)), 0u);
    EXPECT_TRUE(p.round_exhausted());
    EXPECT_EQ(p.on_failure(at(10)), 0u);
    EXPECT_TRUE(p.round_exhausted());
    p.on_connected(at(20));
    EXPECT_FALSE(p.probe_target().has_value());
    EXPECT_FALSE(p.failback_target(at(100'000)).has_value());
}

TEST(EndpointPolicy, NoProbingOnThePrimaryOrWhileDisconnected) {
    endpoint_policy p(3, {});
    p.on_connected(at(0));
    EXPECT_FALSE(p.probe_target().has_value()); // on 0
    p.on_failure(at(10));                       // moving to 1, not connected yet
    EXPECT_FALSE(p.probe_target().has_value());
    p.on_connected(at(20));
    EXPECT_EQ(p.probe_target(), 0u);
}

TEST(EndpointPolicy, FailbackNeedsConsecutiveHealthyProbesAndDwell) {
    endpoint_policy p = connected_to(2, 1, at(1000)); // dwell ends at 11 s
    EXPECT_EQ(p.failback_not_before(), at(11'000));
    EXPECT_EQ(p.probe_target(), 0u);

    p.on_probe_result(0, true, at(2000));
    p.on_probe_result(0, true, at(3000));
    EXPECT_EQ(p.healthy_probes(0), 2u);
    EXPECT_FALSE(p.failback_target(at(20'000)).has_value()); // dwell over, only 2 probes
    p.on_probe_result(0, true, at(4000));
    EXPECT_EQ(p.healthy_probes(0), 3u);
    EXPECT_FALSE(p.failback_target(at(10'999)).has_value()); // 3 probes, dwell not over
    EXPECT_EQ(p.failback_target(at(11'000)), 0u);
}

TEST(EndpointPolicy, UnhealthyProbeInTheMiddleStartsTheCountOver) {
    endpoint_policy p = connected_to(2, 1, at(0));
    probe(p, 0, true, 2, at(1000));
    p.on_probe_result(0, false, at(2000));
    EXPECT_EQ(p.healthy_probes(0), 0u);
    probe(p, 0, true, 2, at(3000));
    EXPECT_FALSE(p.failback_target(at(60'000)).has_value());
    p.on_probe_result(0, true, at(4000));
    EXPECT_EQ(p.failback_target(at(60'000)), 0u);
}

TEST(EndpointPolicy, ProbesCycleThroughBetterEndpointsMostPreferredFirst) {
    endpoint_policy p = connected_to(4, 2, at(0));
    EXPECT_EQ(p.probe_target(), 0u);
    p.on_probe_result(0, false, at(1000));
    EXPECT_EQ(p.probe_target(), 1u);
    p.on_probe_result(1, true, at(2000));
    EXPECT_EQ(p.probe_target(), 0u); // endpoint 3 is worse than current: never probed
}

TEST(EndpointPolicy, PrefersTheMostPreferredHealthyEndpoint) {
    endpoint_policy p = connected_to(3, 2, at(0));
    probe(p, 1, true, 3, at(1000));
    probe(p, 0, true, 3, at(1000));
    EXPECT_EQ(p.failback_target(at(10'000)), 0u);
}

TEST(EndpointPolicy, FailsBackToASecondaryWhenThePrimaryStaysDown) {
    endpoint_policy p = connected_to(3, 2, at(0));
    for (int round = 0; round < 3; ++round) {
        p.on_probe_result(0, false, at(1000 * round));
        p.on_probe_result(1, true, at(1000 * round + 500));
    }
    EXPECT_EQ(p.failback_target(at(10'000)), 1u);
}

TEST(EndpointPolicy, FailbackSwitchesRestartsDwellAndResetsProbeCounts) {
    endpoint_policy p = connected_to(3, 2, at(0));
    probe(p, 1, true, 3, at(1000));
    probe(p, 0, true, 2, at(1000));
    ASSERT_EQ(p.failback_target(at(10'000)), 1u);

    p.on_failback(1, at(10'000));
    EXPECT_EQ(p.current(), 1u);
    EXPECT_TRUE(p.connected());
    EXPECT_EQ(p.healthy_probes(0), 0u);
    EXPECT_EQ(p.failback_not_before(), at(20'000));
    EXPECT_EQ(p.probe_target(), 0u);
    probe(p, 0, true, 3, at(11'000));
    EXPECT_FALSE(p.failback_target(at(19'999)).has_value());
    EXPECT_EQ(p.failback_target(at(20'000)), 0u);

    p.on_failback(0, at(20'000));
    EXPECT_EQ(p.current(), 0u);
    EXPECT_FALSE(p.probe_target().has_value());
    EXPECT_FALSE(p.failback_target(at(60'000)).has_value());
}

TEST(EndpointPolicy, ProbeResultsThatRacedASwitchAreIgnored) {
    endpoint_policy p = connected_to(3, 1, at(0));
    p.on_probe_result(2, true, at(100)); // not better than current
    p.on_probe_result(7, true, at(100)); // out of range
    EXPECT_EQ(p.healthy_probes(2), 0u);
    EXPECT_EQ(p.healthy_probes(7), 0u);
    p.on_failure(at(200)); // disconnected: results are stale
    p.on_probe_result(0, true, at(300));
    EXPECT_EQ(p.healthy_probes(0), 0u);
}

TEST(EndpointPolicy, NewConnectionStartsProbeCountsOver) {
    endpoint_policy p = connected_to(3, 1, at(0));
    probe(p, 0, true, 2, at(1000));
    p.on_failure(at(2000)); // 1 died, moving to 2
    p.on_connected(at(2100));
    EXPECT_EQ(p.healthy_probes(0), 0u);
    EXPECT_EQ(p.failback_not_before(), at(12'100));
}

TEST(EndpointPolicy, FailbackDisabled) {
    endpoint_policy_config cfg;
    cfg.failback = false;
    endpoint_policy p = connected_to(2, 1, at(0), cfg);
    EXPECT_FALSE(p.probe_target().has_value());
    probe(p, 0, true, 10, at(1000));
    EXPECT_FALSE(p.failback_target(at(3'600'000)).has_value());
    // Failover is unaffected.
    EXPECT_EQ(p.on_failure(at(3'600'000)), 0u);
}

TEST(EndpointPolicy, NotConnectedMeansNoFailback) {
    endpoint_policy p = connected_to(2, 1, at(0));
    probe(p, 0, true, 3, at(1000));
    ASSERT_EQ(p.failback_target(at(10'000)), 0u);
    p.on_failure(at(10'000));
    p.on_failure(at(10'100));
    EXPECT_EQ(p.failback_not_before(), time_point::max());
    EXPECT_FALSE(p.failback_target(at(60'000)).has_value());
}

TEST(EndpointPolicy, CustomThresholdAndZeroDwell) {
    endpoint_policy_config cfg;
    cfg.healthy_probes = 1;
    cfg.min_dwell = duration::zero();
    endpoint_policy p = connected_to(2, 1, at(500), cfg);
    EXPECT_EQ(p.failback_not_before(), at(500));
    EXPECT_FALSE(p.failback_target(at(500)).has_value());
    p.on_probe_result(0, true, at(500));
    EXPECT_EQ(p.failback_target(at(500)), 0u);
}

TEST(EndpointPolicy, DwellEndSaturatesNearTheEndOfTime) {
    endpoint_policy p(2, {});
    p.on_failure(at(0));
    p.on_connected(time_point::max() - seconds(1));
    EXPECT_EQ(p.failback_not_before(), time_point::max());
}

TEST(EndpointPolicy, OutOfRangeFailbackIsIgnored) {
    endpoint_policy p = connected_to(2, 1, at(0));
    p.on_failback(5, at(100));
    EXPECT_EQ(p.current(), 1u);
    EXPECT_EQ(p.failback_not_before(), at(10'000));
}

} // namespace
