// Exact fake-clock timelines for every rule of the heartbeat monitor.
#include <heartbeat/core/error.hpp>
#include <heartbeat/core/heartbeat_monitor.hpp>

#include "monitor_test_config.hpp"

#include <gtest/gtest.h>

#include <vector>

namespace hb = heartbeat;
using namespace std::chrono_literals;

namespace {

hb::time_point at(std::chrono::milliseconds ms) {
    return hb::time_point{} + ms;
}
hb::time_point at_ms(long ms) {
    return hb::time_point{} + std::chrono::milliseconds(ms);
}
long ms_of(hb::time_point t) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}

using heartbeat::test::base_config;

hb::uniform_source constant(double u) {
    return [u] { return u; };
}

struct event {
    long t_ms;
    std::uint64_t ping;
    hb::peer_state state;
    bool dead;
};

// Drives the monitor's own timer exactly on time up to `end`, writing every requested ping
// immediately; returns what happened. Bounded so a broken monitor cannot hang the test.
std::vector<event> run_timers(hb::heartbeat_monitor& m, hb::time_point end,
                              std::optional<hb::verdict>* verdict = nullptr) {
    std::vector<event> events;
    for (int i = 0; i < 10000 && m.next_deadline() <= end; ++i) {
        const hb::time_point now = m.next_deadline();
        const hb::monitor_step step = m.on_timer(now);
        if (step.send_ping)
            m.on_ping_written(step.send_ping, now);
        if (step.send_ping || step.state_changed)
            events.push_back({ms_of(now), step.send_ping, step.state, step.dead.has_value()});
        if (step.dead && verdict)
            *verdict = step.dead;
    }
    return events;
}

} // namespace

TEST(HeartbeatMonitor, StartsConnectingAndBecomesAliveOnStart) {
    hb::heartbeat_monitor m(base_config());
    EXPECT_EQ(m.state(), hb::peer_state::connecting);
    EXPECT_EQ(m.next_deadline(), hb::time_point::max());
    const auto step = m.start(at(0ms));
    EXPECT_TRUE(step.state_changed);
    EXPECT_EQ(step.state, hb::peer_state::alive);
    EXPECT_EQ(step.send_ping, 0u);
    EXPECT_EQ(m.next_deadline(), at(1000ms));
}

TEST(HeartbeatMonitor, NoPingWhileInboundTrafficKeepsArriving) {
    auto cfg = base_config();
    cfg.probe_rtt_under_traffic = false; // the liveness rule alone
    hb::heartbeat_monitor m(cfg);
    m.start(at(0ms));
    for (long t = 400; t <= 10000; t += 400) {
        auto step = m.on_inbound(at_ms(t));
        EXPECT_EQ(step.send_ping, 0u);
        EXPECT_EQ(m.next_deadline(), at_ms(t + 1000));
        auto timer = m.on_timer(at_ms(t + 200)); // stale timers must do nothing
        EXPECT_EQ(timer.send_ping, 0u);
    }
    EXPECT_EQ(m.counters().pings_sent, 0u);
    EXPECT_EQ(m.state(), hb::peer_state::alive);
}

TEST(HeartbeatMonitor, PingsAfterIntervalOfSilence) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    EXPECT_EQ(m.on_timer(at(999ms)).send_ping, 0u);
    const auto step = m.on_timer(at(1000ms));
    EXPECT_EQ(step.send_ping, 1u);
    EXPECT_EQ(step.state, hb::peer_state::alive);
}

TEST(HeartbeatMonitor, PongDeadlineCountsFromWhenThePingWasWritten) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    ASSERT_EQ(m.on_timer(at(1000ms)).send_ping, 1u);
    EXPECT_EQ(m.next_deadline(), at(1500ms)); // provisional, from the request
    m.on_ping_written(1, at(1300ms));         // queued behind a data chunk for 300 ms
    EXPECT_EQ(m.next_deadline(), at(1800ms));
    EXPECT_EQ(m.on_timer(at(1500ms)).state, hb::peer_state::alive);
    const auto miss = m.on_timer(at(1800ms));
    EXPECT_EQ(miss.state, hb::peer_state::suspect);
    EXPECT_TRUE(miss.state_changed);
    EXPECT_EQ(miss.send_ping, 2u);
    EXPECT_EQ(m.missed(), 1u);
}

TEST(HeartbeatMonitor, PingNeverWrittenCountsAsMissedAfterTimeoutFromRequest) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    ASSERT_EQ(m.on_timer(at(1000ms)).send_ping, 1u);
    const auto miss = m.on_timer(at(1500ms));
    EXPECT_EQ(miss.state, hb::peer_state::suspect);
    EXPECT_EQ(miss.send_ping, 2u);
}

TEST(HeartbeatMonitor, FrozenPeerIsDeadExactlyAtTheSilenceBudget) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    std::optional<hb::verdict> v;
    const auto events = run_timers(m, at(10000ms), &v);
    const std::vector<std::pair<long, std::uint64_t>> expected_pings = {
        {1000, 1}, {1500, 2}, {2000, 3}};
    std::vector<std::pair<long, std::uint64_t>> pings;
    for (const auto& e : events)
        if (e.ping)
            pings.emplace_back(e.t_ms, e.ping);
    EXPECT_EQ(pings, expected_pings);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->reason, hb::error::peer_dead);
    EXPECT_EQ(v->at, at(2500ms));
    EXPECT_EQ(v->silence, 2500ms);
    EXPECT_EQ(v->silence, hb::silence_budget(base_config()));
    EXPECT_EQ(v->missed, 3u);
    EXPECT_EQ(m.state(), hb::peer_state::dead);
    EXPECT_EQ(m.next_deadline(), hb::time_point::max());
    ASSERT_FALSE(events.empty());
    EXPECT_TRUE(events.back().dead);
    EXPECT_EQ(events.back().t_ms, 2500);
}

TEST(HeartbeatMonitor, SilenceIsMeasuredFromTheLastInboundByte) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    m.on_inbound(at(3700ms));
    std::optional<hb::verdict> v;
    run_timers(m, at(20000ms), &v);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->at, at(6200ms));
    EXPECT_EQ(v->silence, 2500ms);
}

TEST(HeartbeatMonitor, SuspectStateAfterFirstMissAndNotBefore) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    const auto events = run_timers(m, at(1499ms));
    for (const auto& e : events)
        EXPECT_EQ(e.state, hb::peer_state::alive);
    const auto miss = m.on_timer(at(1500ms));
    EXPECT_EQ(miss.state, hb::peer_state::suspect);
}

TEST(HeartbeatMonitor, PongRevivesSuspectPeerAndMeasuresRoundTripFromWrite) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    ASSERT_EQ(m.on_timer(at(1000ms)).send_ping, 1u);
    m.on_ping_written(1, at(1000ms));
    ASSERT_EQ(m.on_timer(at(1500ms)).send_ping, 2u);
    m.on_ping_written(2, at(1510ms));
    const auto pong = m.on_pong(2, at(1550ms));
    EXPECT_FALSE(pong.error);
    EXPECT_TRUE(pong.state_changed);
    EXPECT_EQ(pong.state, hb::peer_state::alive);
    ASSERT_TRUE(pong.rtt.has_value());
    EXPECT_EQ(*pong.rtt, 40ms);
    EXPECT_EQ(m.missed(), 0u);
    EXPECT_EQ(m.next_deadline(), at(2550ms));
    EXPECT_EQ(m.rtt().last(), 40ms);
}

TEST(HeartbeatMonitor, LatePongForAnEarlierPingStillProvesLife) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    run_timers(m, at(1500ms)); // ping 1 at 1000, missed at 1500, ping 2 requested
    ASSERT_EQ(m.state(), hb::peer_state::suspect);
    const auto pong = m.on_pong(1, at(1700ms));
    EXPECT_EQ(pong.state, hb::peer_state::alive);
    ASSERT_TRUE(pong.rtt.has_value());
    EXPECT_EQ(*pong.rtt, 700ms);
    EXPECT_EQ(m.counters().pongs_late, 1u);
    // A duplicate of the same pong proves life again but measures nothing twice.
    const auto duplicate = m.on_pong(1, at(1800ms));
    EXPECT_FALSE(duplicate.rtt.has_value());
    EXPECT_FALSE(duplicate.error);
}

TEST(HeartbeatMonitor, PongForAPingNeverSentIsAProtocolError) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    EXPECT_EQ(m.on_pong(1, at(10ms)).error, hb::error::unexpected_pong);
    EXPECT_EQ(m.on_pong(0, at(10ms)).error, hb::error::unexpected_pong);
    ASSERT_EQ(m.on_timer(at(1000ms)).send_ping, 1u);
    EXPECT_EQ(m.on_pong(2, at(1010ms)).error, hb::error::unexpected_pong);
    EXPECT_FALSE(m.on_pong(1, at(1010ms)).error);
}

TEST(HeartbeatMonitor, PongOnlyModeIgnoresDataAsProofOfLife) {
    auto config = base_config();
    config.liveness = hb::liveness_mode::pong_only;
    hb::heartbeat_monitor m(config);
    m.start(at(0ms));
    std::optional<hb::verdict> v;
    for (long t = 0; t < 5000 && !v; t += 50) {
        m.on_inbound(at_ms(t)); // the peer's transport keeps talking, its app never pongs
        while (m.next_deadline() <= at_ms(t + 50)) {
            const auto now = m.next_deadline();
            const auto step = m.on_timer(now);
            if (step.send_ping)
                m.on_ping_written(step.send_ping, now);
            if (step.dead)
                v = step.dead;
        }
    }
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->at, at(2500ms));
}

TEST(HeartbeatMonitor, AnyInboundModeCountsDataAsProofOfLife) {
    auto cfg = base_config();
    cfg.probe_rtt_under_traffic = false; // no ping at all may be due while data flows
    hb::heartbeat_monitor m(cfg);
    m.start(at(0ms));
    for (long t = 0; t < 5000; t += 50) {
        m.on_inbound(at_ms(t));
        EXPECT_GT(m.next_deadline(), at_ms(t + 50));
    }
    EXPECT_EQ(m.state(), hb::peer_state::alive);
}

TEST(HeartbeatMonitor, JitterKeepsEachQuietPeriodWithinBounds) {
    auto config = base_config();
    config.jitter = 0.2;
    hb::heartbeat_monitor m(config, hb::seeded_uniform_source(42));
    hb::time_point now = at(0ms);
    m.start(now);
    long shortest = 1'000'000, longest = 0;
    for (int i = 0; i < 2000; ++i) {
        const hb::time_point deadline = m.next_deadline();
        const long quiet = ms_of(deadline) - ms_of(now);
        shortest = std::min(shortest, quiet);
        longest = std::max(longest, quiet);
        const auto step = m.on_timer(deadline);
        ASSERT_NE(step.send_ping, 0u);
        m.on_ping_written(step.send_ping, deadline);
        now = deadline + 10ms;
        m.on_pong(step.send_ping, now);
    }
    EXPECT_GE(shortest, 800);
    EXPECT_LE(longest, 1200);
    EXPECT_LT(shortest, 820); // the whole range is used, not just the centre
    EXPECT_GT(longest, 1180);
}

TEST(HeartbeatMonitor, EarlyJitteredPingNeverBringsTheVerdictBeforeTheBudget) {
    auto config = base_config();
    config.jitter = 0.2;
    hb::heartbeat_monitor m(config, constant(0.0)); // every quiet period is 800 ms
    m.start(at(0ms));
    std::optional<hb::verdict> v;
    const auto events = run_timers(m, at(10000ms), &v);
    ASSERT_FALSE(events.empty());
    EXPECT_EQ(events.front().t_ms, 800);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->at, at(2500ms)); // misses done at 2300, verdict waits for the budget
    EXPECT_EQ(v->silence, 2500ms);
}

TEST(HeartbeatMonitor, LateJitteredPingBoundsTheVerdictByJitterTimesInterval) {
    auto config = base_config();
    config.jitter = 0.2;
    hb::heartbeat_monitor m(config, constant(1.0)); // every quiet period is 1200 ms
    m.start(at(0ms));
    std::optional<hb::verdict> v;
    run_timers(m, at(10000ms), &v);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->silence, 2700ms); // budget + jitter * interval
}

TEST(HeartbeatMonitor, FiveSecondStallWithOneSecondBudgetGivesNoVerdict) {
    hb::monitor_config config;
    config.interval = 400ms;
    config.jitter = 0.0;
    config.pong_timeout = 200ms;
    config.max_missed = 3;
    config.stall_tolerance = 100ms;
    ASSERT_EQ(hb::silence_budget(config), 1000ms);
    hb::heartbeat_monitor m(config);
    m.start(at(0ms));
    ASSERT_EQ(m.next_deadline(), at(400ms));
    // Our event loop was blocked for 5 s: the timer armed for 400 ms runs at 5400 ms.
    const auto step = m.on_timer(at(5400ms));
    EXPECT_FALSE(step.dead.has_value());
    EXPECT_EQ(step.stall_lag, 5000ms);
    EXPECT_NE(step.send_ping, 0u);
    EXPECT_EQ(step.state, hb::peer_state::alive);
    m.on_ping_written(step.send_ping, at(5400ms));
    // The peer was fine all along: its reply arrives promptly.
    const auto pong = m.on_pong(step.send_ping, at(5402ms));
    EXPECT_EQ(pong.state, hb::peer_state::alive);
    // And the timeline carries on normally afterwards.
    std::optional<hb::verdict> v;
    for (long t = 5402; t < 9000; t += 300)
        m.on_inbound(at_ms(t));
    EXPECT_EQ(m.state(), hb::peer_state::alive);
    EXPECT_EQ(m.counters().stalls, 1u);
    EXPECT_EQ(m.counters().stalled_total, 5000ms);
}

TEST(HeartbeatMonitor, StallDuringSuspicionExtendsDeadlinesInsteadOfKilling) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    run_timers(m, at(2000ms)); // two misses: suspect, third ping armed until 2500
    ASSERT_EQ(m.missed(), 2u);
    ASSERT_EQ(m.next_deadline(), at(2500ms));
    const auto step = m.on_timer(at(7500ms)); // 5 s stall
    EXPECT_FALSE(step.dead.has_value());
    EXPECT_EQ(step.stall_lag, 5000ms);
    EXPECT_NE(step.send_ping, 0u);
    EXPECT_NE(m.state(), hb::peer_state::dead);
}

TEST(HeartbeatMonitor, GenuinelyDeadPeerIsStillDeclaredAfterAStall) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    auto step = m.on_timer(at(6000ms)); // stalled 5 s before the first ping
    ASSERT_EQ(step.stall_lag, 5000ms);
    m.on_ping_written(step.send_ping, at(6000ms));
    std::optional<hb::verdict> v;
    run_timers(m, at(30000ms), &v);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->stalled, 5000ms);
    EXPECT_EQ(v->silence - v->stalled, 2500ms); // the budget, not counting our own stall
    EXPECT_EQ(v->at, at(7500ms));
}

TEST(HeartbeatMonitor, TimerLateWithinToleranceIsNotAStall) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    const auto step = m.on_timer(at(1090ms));
    EXPECT_EQ(step.stall_lag, 0ms);
    EXPECT_EQ(step.send_ping, 1u);
}

TEST(HeartbeatMonitor, AdaptivePongTimeoutFollowsRto) {
    auto config = base_config();
    config.adaptive_pong_timeout = true;
    config.pong_timeout_floor = 200ms;
    hb::heartbeat_monitor m(config);
    m.start(at(0ms));
    EXPECT_EQ(m.pong_timeout(), 500ms); // no samples yet: the configured value
    ASSERT_EQ(m.on_timer(at(1000ms)).send_ping, 1u);
    m.on_ping_written(1, at(1000ms));
    m.on_pong(1, at(1100ms)); // first sample R=100: srtt=100, rttvar=50 -> rto=300
    EXPECT_EQ(m.pong_timeout(), 300ms);
    EXPECT_EQ(m.budget(), 1000ms + 3 * 300ms);
    ASSERT_EQ(m.on_timer(at(2100ms)).send_ping, 2u);
    m.on_ping_written(2, at(2100ms));
    EXPECT_EQ(m.next_deadline(), at(2400ms));
}

TEST(HeartbeatMonitor, AdaptivePongTimeoutNeverGoesBelowTheFloor) {
    auto config = base_config();
    config.adaptive_pong_timeout = true;
    config.pong_timeout_floor = 200ms;
    hb::heartbeat_monitor m(config);
    m.start(at(0ms));
    hb::time_point now = at(0ms);
    for (int i = 0; i < 50; ++i) {
        now = m.next_deadline();
        const auto step = m.on_timer(now);
        ASSERT_NE(step.send_ping, 0u);
        m.on_ping_written(step.send_ping, now);
        m.on_pong(step.send_ping, now + 1ms);
    }
    EXPECT_EQ(m.pong_timeout(), 200ms);
}

TEST(HeartbeatMonitor, SetIntervalTakesEffectForTheNextPing) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    m.set_interval(3000ms, at(100ms));
    EXPECT_EQ(m.next_deadline(), at(3000ms));
    EXPECT_EQ(m.budget(), 3000ms + 3 * 500ms);
}

TEST(HeartbeatMonitor, DeadIsTerminal) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    std::optional<hb::verdict> v;
    run_timers(m, at(10000ms), &v);
    ASSERT_TRUE(v.has_value());
    const auto after = m.on_inbound(at(10001ms));
    EXPECT_EQ(after.state, hb::peer_state::dead);
    EXPECT_FALSE(after.state_changed);
    EXPECT_FALSE(m.on_timer(at(20000ms)).dead.has_value());
}

TEST(HeartbeatMonitor, PhiAccrualDetectorDeclaresASilentPeerDeadAndKeepsAHealthyOneAlive) {
    auto config = base_config();
    config.detector = hb::detector_kind::phi_accrual;
    config.phi.first_interval_estimate = 1000ms;
    config.phi.min_std_deviation = 100ms;
    hb::heartbeat_monitor m(config);
    m.start(at(0ms));
    // Healthy: every ping answered 10 ms later, for a minute.
    hb::time_point now = at(0ms);
    while (now < at(60000ms)) {
        now = m.next_deadline();
        const auto step = m.on_timer(now);
        ASSERT_FALSE(step.dead.has_value());
        if (step.send_ping) {
            m.on_ping_written(step.send_ping, now);
            m.on_pong(step.send_ping, now + 10ms);
        }
        ASSERT_EQ(m.state(), hb::peer_state::alive);
    }
    // Then silence: the verdict arrives, after suspicion, within a few intervals.
    const hb::time_point silence_start = m.last_proof_of_life();
    std::optional<hb::verdict> v;
    run_timers(m, silence_start + 30000ms, &v);
    ASSERT_TRUE(v.has_value());
    EXPECT_GT(v->silence, 1000ms);
    EXPECT_LT(v->silence, 3000ms);
}

TEST(HeartbeatMonitor, RoundTripRunsFromWriteStartWhileDeadlineRunsFromCompletion) {
    hb::heartbeat_monitor m(base_config());
    m.start(at(0ms));
    ASSERT_EQ(m.on_timer(at(1000ms)).send_ping, 1u);
    // The write began at 1001 ms; its completion was only noticed at 1040 ms.
    m.on_ping_written(1, at(1040ms), at(1001ms));
    EXPECT_EQ(m.next_deadline(), at(1540ms));
    const auto pong = m.on_pong(1, at(1031ms));
    ASSERT_TRUE(pong.rtt.has_value());
    EXPECT_EQ(*pong.rtt, 30ms);
}

// The inline fast path must be exactly on_inbound where it applies, and refuse elsewhere.
TEST(HeartbeatMonitor, RoutineInboundMatchesOnInboundWhereItAppliesAndRefusesElsewhere) {
    auto cfg = base_config();
    cfg.jitter = 0.2; // deadlines depend on the resampled interval: both paths must agree
    hb::heartbeat_monitor fast(cfg, constant(0.3));
    hb::heartbeat_monitor slow(cfg, constant(0.3));
    fast.start(at(0ms));
    slow.start(at(0ms));
    // Alive, no ping awaited: taken, same deadline and proof of life as the full step.
    for (long t = 100; t <= 900; t += 100) {
        ASSERT_TRUE(fast.on_routine_inbound(at_ms(t)));
        const auto step = slow.on_inbound(at_ms(t));
        ASSERT_FALSE(step.state_changed || step.send_ping || step.dead || step.rtt);
        ASSERT_EQ(fast.next_deadline(), slow.next_deadline()) << t;
        ASSERT_EQ(fast.last_proof_of_life(), slow.last_proof_of_life());
    }
    // A ping is awaited: refused, nothing changed.
    const auto deadline = fast.next_deadline();
    ASSERT_EQ(fast.on_timer(deadline).send_ping, 1u);
    fast.on_ping_written(1, deadline);
    const auto armed = fast.next_deadline();
    EXPECT_FALSE(fast.on_routine_inbound(deadline + 10ms));
    EXPECT_EQ(fast.next_deadline(), armed);
    EXPECT_EQ(fast.last_proof_of_life(), at_ms(900));
    // Suspect (the ping was missed): refused; the full step revives the peer.
    fast.on_timer(armed);
    ASSERT_EQ(fast.state(), hb::peer_state::suspect);
    EXPECT_FALSE(fast.on_routine_inbound(armed + 1ms));
    EXPECT_TRUE(fast.on_inbound(armed + 1ms).state_changed);
    // Pong-only liveness: data is no proof of life, so never routine.
    auto pong_only = base_config();
    pong_only.liveness = hb::liveness_mode::pong_only;
    hb::heartbeat_monitor p(pong_only);
    p.start(at(0ms));
    EXPECT_FALSE(p.on_routine_inbound(at(100ms)));
    // Another detector owns the judgement: never routine.
    auto phi = base_config();
    phi.detector = hb::detector_kind::phi_accrual;
    hb::heartbeat_monitor q(phi);
    q.start(at(0ms));
    EXPECT_FALSE(q.on_routine_inbound(at(100ms)));
    // Not started: never routine.
    hb::heartbeat_monitor idle(base_config());
    EXPECT_FALSE(idle.on_routine_inbound(at(100ms)));
}

namespace {

struct traffic_run {
    std::vector<long> ping_ms;
    std::vector<long> rtt_us;
    bool ever_suspect = false;
};

// Inbound data every `data_every` ms (0: none) for `end_ms`; every requested ping is written at
// once and, when `pong_after_ms` >= 0, answered that long after. Steps in 1 ms ticks.
traffic_run drive_with_traffic(hb::heartbeat_monitor& m, long end_ms, long data_every,
                               long pong_after_ms) {
    traffic_run r;
    m.start(at_ms(0));
    std::vector<std::pair<long, std::uint64_t>> pongs_due;
    for (long t = 1; t <= end_ms; ++t) {
        for (auto it = pongs_due.begin(); it != pongs_due.end();) {
            if (it->first == t) {
                const auto step = m.on_pong(it->second, at_ms(t));
                if (step.rtt)
                    r.rtt_us.push_back(static_cast<long>(
                        std::chrono::duration_cast<std::chrono::microseconds>(*step.rtt).count()));
                it = pongs_due.erase(it);
            } else {
                ++it;
            }
        }
        if (data_every > 0 && t % data_every == 0)
            m.on_inbound(at_ms(t));
        if (m.next_deadline() <= at_ms(t)) {
            const auto step = m.on_timer(at_ms(t));
            if (step.send_ping) {
                m.on_ping_written(step.send_ping, at_ms(t));
                r.ping_ms.push_back(t);
                if (pong_after_ms >= 0)
                    pongs_due.emplace_back(t + pong_after_ms, step.send_ping);
            }
        }
        r.ever_suspect = r.ever_suspect || m.state() != hb::peer_state::alive;
    }
    return r;
}

} // namespace

TEST(HeartbeatMonitor, UnderTrafficOnePingPerIntervalMeasuresTheRoundTrip) {
    hb::heartbeat_monitor m(base_config()); // interval 1000 ms
    const auto r = drive_with_traffic(m, 10'000, 10, 3);
    EXPECT_EQ(r.ping_ms,
              (std::vector<long>{1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000, 9000, 10000}));
    ASSERT_EQ(r.rtt_us.size(), 9u); // the last pong is due after the end
    for (long us : r.rtt_us)
        EXPECT_EQ(us, 3000);
    EXPECT_FALSE(r.ever_suspect);
    EXPECT_EQ(m.rtt().samples(), 9u);
}

TEST(HeartbeatMonitor, UnansweredProbesUnderTrafficStayOnePerIntervalAndAreNotMisses) {
    hb::heartbeat_monitor m(base_config());
    const auto r = drive_with_traffic(m, 10'000, 10, -1); // the peer never answers a ping
    EXPECT_EQ(r.ping_ms.size(), 10u);
    for (std::size_t i = 1; i < r.ping_ms.size(); ++i)
        EXPECT_EQ(r.ping_ms[i] - r.ping_ms[i - 1], 1000);
    EXPECT_EQ(m.counters().misses, 0u); // the data kept proving life
    EXPECT_FALSE(r.ever_suspect);
}

TEST(HeartbeatMonitor, IdlePeerIsPingedExactlyAsWithoutTheProbe) {
    auto with = base_config();
    with.jitter = 0.2;
    auto without = with;
    without.probe_rtt_under_traffic = false;
    double u = 0.0; // a deterministic sweep of jitter draws, the same for both monitors
    auto sweep = [&u] {
        u = u >= 0.9 ? 0.05 : u + 0.15;
        return u;
    };
    hb::heartbeat_monitor a(with, sweep);
    const auto ra = drive_with_traffic(a, 20'000, 0, 5);
    u = 0.0;
    hb::heartbeat_monitor b(without, sweep);
    const auto rb = drive_with_traffic(b, 20'000, 0, 5);
    EXPECT_GE(ra.ping_ms.size(), 15u);
    EXPECT_EQ(ra.ping_ms, rb.ping_ms);
}

// Round trips measured otherwise (timed ACKs, every 10 ms with the data): each is a sample,
// and the probe never goes out while they keep coming.
TEST(HeartbeatMonitor, RoundTripsFromAcksAreSamplesAndPostponeTheProbe) {
    hb::heartbeat_monitor m(base_config()); // interval 1000 ms
    m.start(at_ms(0));
    std::size_t pings = 0;
    for (long t = 10; t <= 5000; t += 10) {
        m.on_inbound(at_ms(t));
        const auto step = m.on_rtt_sample(2ms, at_ms(t));
        ASSERT_TRUE(step.rtt.has_value());
        EXPECT_EQ(*step.rtt, 2ms);
        while (m.next_deadline() <= at_ms(t + 9))
            pings += m.on_timer(m.next_deadline()).send_ping != 0;
    }
    EXPECT_EQ(pings, 0u);
    EXPECT_EQ(m.rtt().samples(), 500u);
    EXPECT_EQ(m.counters().pings_sent, 0u);
    // When the samples stop (traffic goes on), the probe is due one interval after the last.
    std::vector<long> probe_ms;
    for (long t = 5010; t <= 7000; t += 10) {
        m.on_inbound(at_ms(t));
        if (m.next_deadline() <= at_ms(t)) {
            const auto step = m.on_timer(at_ms(t));
            if (step.send_ping) {
                probe_ms.push_back(t);
                m.on_ping_written(step.send_ping, at_ms(t));
            }
        }
    }
    EXPECT_EQ(probe_ms, (std::vector<long>{6000, 7000}));
}

TEST(HeartbeatMonitor, RoundTripSamplesAreIgnoredBeforeTheStartAndAfterTheVerdict) {
    hb::heartbeat_monitor m(base_config());
    EXPECT_FALSE(m.on_rtt_sample(1ms, at_ms(0)).rtt.has_value()); // connecting
    m.start(at_ms(0));
    EXPECT_FALSE(m.on_rtt_sample(-1ms, at_ms(1)).rtt.has_value()); // impossible: dropped
    std::optional<hb::verdict> v;
    run_timers(m, at_ms(10'000), &v);
    ASSERT_TRUE(v.has_value());
    EXPECT_FALSE(m.on_rtt_sample(1ms, at_ms(10'001)).rtt.has_value()); // dead
    EXPECT_EQ(m.rtt().samples(), 0u);
}

TEST(HeartbeatMonitor, TrafficThatStopsStillGetsTheVerdictAtTheBudget) {
    hb::heartbeat_monitor m(base_config()); // budget 2500 ms
    m.start(at_ms(0));
    for (long t = 10; t <= 1500; t += 10)
        m.on_inbound(at_ms(t));
    std::optional<hb::verdict> v;
    run_timers(m, at_ms(10'000), &v);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(ms_of(v->at), 1500 + 2500);
    EXPECT_EQ(v->silence, 2500ms);
}

namespace {

// A peer that sends every 100 ms while none of our pings is ever reported written (its receive
// window is closed): the monitor's timer runs on time, inbound keeps arriving. Returns the
// verdict, if any, by `end_ms`; `written_at_ms` reports every ping requested so far as written
// at that instant.
std::optional<hb::verdict> talk_without_reading(hb::heartbeat_monitor& m, long end_ms,
                                                long written_at_ms = -1) {
    std::uint64_t last_ping = 0;
    for (long t = 100; t <= end_ms; t += 100) {
        for (int i = 0;
             i < 100 && m.next_deadline() <= hb::time_point{} + std::chrono::milliseconds(t); ++i) {
            const auto step = m.on_timer(m.next_deadline());
            if (step.send_ping)
                last_ping = step.send_ping;
            if (step.dead)
                return step.dead;
        }
        if (t == written_at_ms && last_ping != 0)
            m.on_ping_written(last_ping, at_ms(t));
        const auto step = m.on_inbound(at_ms(t));
        if (step.dead)
            return step.dead;
    }
    return std::nullopt;
}

} // namespace

TEST(HeartbeatMonitor, APingUnwrittenForTheBudgetIsAVerdictEvenWhileThePeerTalks) {
    hb::heartbeat_monitor m(base_config()); // budget 2500 ms
    m.start(at_ms(0));
    // The RTT probe asks for ping 1 at 1000 ms; it never leaves, while data keeps arriving.
    const auto v = talk_without_reading(m, 10'000);
    ASSERT_TRUE(v.has_value()) << "a peer that talks but never reads stayed alive";
    EXPECT_EQ(v->reason, hb::error::write_stalled);
    EXPECT_EQ(ms_of(v->at), 1000 + 2500);
    EXPECT_EQ(m.state(), hb::peer_state::dead);
    EXPECT_EQ(m.next_deadline(), hb::time_point::max());
}

TEST(HeartbeatMonitor, AWrittenPingRestartsTheWriteStallClockAtTheNextUnwrittenOne) {
    hb::heartbeat_monitor m(base_config());
    m.start(at_ms(0));
    // Pings 1..3 (1000, 2000, 3000 ms) are all reported written at 3400 ms, just before the
    // stall deadline of ping 1 (3500 ms). Ping 4, requested at 4000 ms, is the next one stuck.
    const auto v = talk_without_reading(m, 10'000, 3400);
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->reason, hb::error::write_stalled);
    EXPECT_EQ(ms_of(v->at), 4000 + 2500);
}

TEST(HeartbeatMonitor, RoutineInboundDefersToOnInboundWhileAPingIsUnwritten) {
    hb::heartbeat_monitor m(base_config());
    m.start(at_ms(0));
    m.on_inbound(at_ms(900));
    ASSERT_EQ(m.on_timer(at_ms(1000)).send_ping, 1u); // the RTT probe, never written
    m.on_inbound(at_ms(1100));                        // life: the pong deadline is dropped
    EXPECT_FALSE(m.on_routine_inbound(at_ms(1200)))
        << "the fast path would forget the write-stall deadline";
    EXPECT_EQ(ms_of(m.next_deadline()), 2000); // the next probe, before the stall (3500)
    m.on_ping_written(1, at_ms(1300));
    m.on_pong(1, at_ms(1350));
    EXPECT_TRUE(m.on_routine_inbound(at_ms(1400)));
}

TEST(HeartbeatMonitor, ASilentPeerWithUnwrittenPingsIsStillPeerDeadAtTheBudget) {
    hb::heartbeat_monitor m(base_config());
    m.start(at_ms(0));
    std::optional<hb::verdict> v;
    for (int i = 0; i < 100 && !v; ++i) // no inbound, no ping ever written
        v = m.on_timer(m.next_deadline()).dead;
    ASSERT_TRUE(v.has_value());
    EXPECT_EQ(v->reason, hb::error::peer_dead); // silence runs out first: 2500 < 1000 + 2500
    EXPECT_EQ(ms_of(v->at), 2500);
}
