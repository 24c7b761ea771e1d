// The client supervisor with every endpoint down: reconnecting delays follow the backoff policy
// (full jitter: each delay within [0, base], the base growing by the multiplier up to the cap),
// endpoints are tried in order each round, and the give-up rules end async_run with
// error::all_endpoints_failed and a gave_up event. Plus the backoff policy itself on a fake
// timeline (what tests/unit/backoff_test.cpp does not cover: full-jitter growth and bounds over
// long runs, fleet spread, determinism per seed, the proportional band under the cap).
#include "client_test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/core/backoff.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdio>

using namespace heartbeat;
using namespace std::chrono_literals;
namespace ht = heartbeat::test;
namespace cs = heartbeat::test::client_support;
namespace asio = boost::asio;

namespace {

// Base of the n-th delay (n = 0, 1, ...): min(max, initial * multiplier^n), in nanoseconds.
double base_ns(const backoff_config& b, unsigned n) {
    return std::min(static_cast<double>(b.max.count()),
                    static_cast<double>(b.initial.count()) * std::pow(b.multiplier, n));
}

duration base_of(const backoff_config& b, unsigned n) {
    return duration(static_cast<duration::rep>(std::llround(base_ns(b, n))));
}

std::pair<unsigned short, unsigned short> two_unused_ports() {
    unsigned short a = cs::unused_port(), b = cs::unused_port();
    for (int i = 0; i < 10 && a == b; ++i)
        b = cs::unused_port();
    return {a, b};
}

} // namespace

TEST(ClientBackoff, AllEndpointsDownBacksOffPerPolicyThenGivesUp) {
    const auto [port_a, port_b] = two_unused_ports();
    ASSERT_NE(port_a, port_b);
    asio::io_context ioc;
    client_config cfg;
    cfg.backoff.initial = 10ms;
    cfg.backoff.multiplier = 2.0;
    cfg.backoff.max = 160ms;
    cfg.backoff.mode = backoff_jitter::full;
    cfg.connect_timeout = 1s;
    cfg.give_up.max_attempts = 18; // 9 rounds of 2 endpoints: 8 back-offs between them
    cfg.use_reconnect_budget = false;
    cs::event_log events;
    const endpoint a = cs::local_endpoint_for(port_a), b = cs::local_endpoint_for(port_b);
    client c(ioc.get_executor(), {a, b}, cfg, events.callback());
    bool run_done = false;
    boost::system::error_code run_end;
    const time_point started = clock::now();
    time_point ended{};
    c.async_run([&](boost::system::error_code ec) {
        run_end = ec, run_done = true;
        ended = clock::now();
    });
    // Worst case: 10 + 20 + 40 + 80 + 4 * 160 = 790 ms of back-off plus 18 refused connects.
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return run_done; }, 10s))
        << events.describe();
    EXPECT_EQ(run_end, error::all_endpoints_failed);

    const auto all = events.snapshot();
    const std::string trace = events.describe();
    std::vector<cs::timed_event> connecting, closed, reconnecting;
    for (auto& t : all) {
        if (t.event.kind == client_event_kind::connecting)
            connecting.push_back(t);
        else if (t.event.kind == client_event_kind::closed)
            closed.push_back(t);
        else if (t.event.kind == client_event_kind::reconnecting)
            reconnecting.push_back(t);
    }
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.back().event.kind, client_event_kind::gave_up) << trace;
    EXPECT_EQ(all.back().event.reason, error::all_endpoints_failed) << trace;
    EXPECT_EQ(events.count(client_event_kind::gave_up), 1u);
    EXPECT_EQ(events.count(client_event_kind::connected), 0u);

    // Exactly max_attempts attempts, alternating a, b, a, b (each round starts with the
    // preferred endpoint), each refused.
    ASSERT_EQ(connecting.size(), 18u) << trace;
    ASSERT_EQ(closed.size(), 18u) << trace;
    for (std::size_t i = 0; i < connecting.size(); ++i) {
        EXPECT_EQ(connecting[i].event.attempt, i + 1);
        EXPECT_EQ(connecting[i].event.endpoint, i % 2 == 0 ? a.label : b.label) << trace;
        EXPECT_EQ(closed[i].event.reason, asio::error::connection_refused) << trace;
    }

    // One back-off per exhausted round (after attempts 2, 4, ..., 16; the 18th gives up).
    ASSERT_EQ(reconnecting.size(), 8u) << trace;
    duration longest{}, total{};
    std::printf("reconnect delays (ms):");
    for (unsigned n = 0; n < reconnecting.size(); ++n) {
        const auto& r = reconnecting[n];
        EXPECT_EQ(r.event.attempt, 2 * (n + 1)) << trace;
        EXPECT_GE(r.event.delay, duration::zero());
        EXPECT_LE(r.event.delay, base_of(cfg.backoff, n))
            << "delay " << n << " above its base " << ht::to_ms(base_of(cfg.backoff, n)) << " ms";
        EXPECT_LE(r.event.delay, cfg.backoff.max);
        // The next attempt waits for the delay (on the client's clock: the callbacks that
        // report the events may run late), and not much longer.
        const auto next = connecting[2 * (n + 1)].event.at;
        EXPECT_GE(next - r.event.at, r.event.delay) << "attempt before its delay elapsed";
        EXPECT_LT(next - r.event.at, r.event.delay + 500ms);
        // The event says when it was decided, before the callback that reports it.
        EXPECT_LE(r.event.at, r.at);
        longest = std::max(longest, r.event.delay);
        total += r.event.delay;
        std::printf(" %.1f/%.0f", ht::to_ms(r.event.delay), ht::to_ms(base_of(cfg.backoff, n)));
    }
    std::printf("  (delay/base); total run %.1f ms\n", cs::ms_between(started, ended));
    // The bases grow: a delay above 20 ms needs a base of at least 40 ms (the third one). With
    // full jitter, no such delay in 6 draws from bases 40..160 has probability ~3e-5.
    EXPECT_GT(longest, 2 * cfg.backoff.initial) << "the backoff base never grew";
    EXPECT_GE(ended - started, total) << "the run took less than the sum of its back-offs";

    const auto stats = c.stats();
    EXPECT_EQ(stats.attempts, 18u);
    EXPECT_EQ(stats.connect_failures, 18u);
    EXPECT_EQ(stats.sessions, 0u);
    EXPECT_FALSE(stats.connected);
}

TEST(ClientBackoff, MaxDowntimeGivesUpAfterTheConfiguredTime) {
    asio::io_context ioc;
    client_config cfg;
    cfg.backoff.initial = 20ms;
    cfg.backoff.multiplier = 2.0;
    cfg.backoff.max = 50ms;
    cfg.give_up.max_downtime = 300ms; // max_attempts stays 0: never on a count
    cfg.use_reconnect_budget = false;
    cs::event_log events;
    client c(ioc.get_executor(), {cs::local_endpoint_for(cs::unused_port())}, cfg,
             events.callback());
    bool run_done = false;
    boost::system::error_code run_end;
    const time_point started = clock::now();
    time_point ended{};
    c.async_run([&](boost::system::error_code ec) {
        run_end = ec, run_done = true;
        ended = clock::now();
    });
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return run_done; }, 5s))
        << events.describe();
    EXPECT_EQ(run_end, error::all_endpoints_failed);
    EXPECT_EQ(events.count(client_event_kind::gave_up), 1u);
    // The rule is checked after each failed attempt, which come at most 50 ms (+ a refused
    // connect) apart.
    EXPECT_GE(ended - started, 300ms);
    EXPECT_LT(ended - started, 300ms + 400ms);
    EXPECT_GE(c.stats().attempts, 4u);
    std::printf("gave up after %.1f ms and %llu attempts\n", cs::ms_between(started, ended),
                static_cast<unsigned long long>(c.stats().attempts));
}

TEST(ClientBackoff, SendsWaitForAConnectionAndFailWithTheGiveUpReason) {
    // Messages accepted while no endpoint is reachable stay in the resend buffer; when the
    // client gives up they remain readable through unacked_messages().
    asio::io_context ioc;
    client_config cfg;
    cfg.backoff.initial = 10ms;
    cfg.backoff.max = 20ms;
    cfg.give_up.max_attempts = 3;
    cfg.use_reconnect_budget = false;
    client c(ioc.get_executor(), {cs::local_endpoint_for(cs::unused_port())}, cfg);
    bool run_done = false;
    boost::system::error_code run_end;
    c.async_run([&](boost::system::error_code ec) { run_end = ec, run_done = true; });
    std::vector<std::uint64_t> seqs;
    for (int i = 1; i <= 3; ++i)
        c.async_send("m" + std::to_string(i), [&](boost::system::error_code ec, std::uint64_t seq) {
            EXPECT_FALSE(ec);
            seqs.push_back(seq);
        });
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return run_done; }, 5s));
    EXPECT_EQ(run_end, error::all_endpoints_failed);
    EXPECT_EQ(seqs, (std::vector<std::uint64_t>{1, 2, 3}));
    const auto left = c.unacked_messages();
    ASSERT_EQ(left.size(), 3u);
    EXPECT_EQ(left[0].seq, 1u);
    EXPECT_EQ(left[2].payload, "m3");
    // After the end, a send fails at once with the reason.
    boost::system::error_code late;
    bool late_done = false;
    c.async_send("late",
                 [&](boost::system::error_code ec, std::uint64_t) { late = ec, late_done = true; });
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return late_done; }, 2s));
    EXPECT_EQ(late, error::all_endpoints_failed);
}

// ---- The policy on a fake timeline --------------------------------------------------------

// Full jitter with a real (seeded) source over a long outage: every delay is within [0, base],
// the base follows initial * multiplier^n exactly until the cap and then stays there, and the
// simulated reconnect times never run ahead of the sum of the bases.
TEST(ClientBackoffPolicy, FullJitterDelaysStayWithinTheGrowingBaseOnAFakeTimeline) {
    backoff_config cfg; // defaults: 1 s, x1.6, cap 120 s, full jitter
    backoff b(cfg, seeded_uniform_source(42));
    time_point now{}; // fake clock: advanced only by the delays
    double bases_sum_ns = 0;
    bool reached_cap = false;
    for (unsigned n = 0; n < 40; ++n) {
        SCOPED_TRACE(n);
        const double expected_base = base_ns(cfg, n);
        EXPECT_NEAR(static_cast<double>(b.current_base().count()), expected_base, 1.0);
        const duration d = b.next_delay();
        EXPECT_GE(d, duration::zero());
        EXPECT_LE(static_cast<double>(d.count()), expected_base + 1.0);
        now += d;
        bases_sum_ns += expected_base;
        EXPECT_LE(static_cast<double>(now.time_since_epoch().count()), bases_sum_ns + n + 1);
        reached_cap = reached_cap || b.current_base() == cfg.max;
    }
    EXPECT_TRUE(reached_cap);
    EXPECT_EQ(b.attempts(), 40u);
    EXPECT_EQ(b.current_base(), cfg.max);
}

// A fleet whose clients lost the same server at the same instant: at the same attempt their full
// jitter delays cover [0, base] uniformly (no synchronised reconnect wave), and the mean is
// base / 2.
TEST(ClientBackoffPolicy, FullJitterSpreadsAFleetUniformlyOverTheBase) {
    backoff_config cfg;
    cfg.initial = 100ms;
    cfg.multiplier = 2.0;
    cfg.max = 10s;
    constexpr int fleet = 2000;
    constexpr unsigned attempt = 3; // base 800 ms
    const double base = base_ns(cfg, attempt);
    std::array<int, 10> bins{};
    double sum = 0, lowest = base, highest = 0;
    for (int i = 0; i < fleet; ++i) {
        backoff b(cfg, seeded_uniform_source(1000 + static_cast<std::uint64_t>(i)));
        for (unsigned n = 0; n < attempt; ++n)
            b.next_delay();
        const double d = static_cast<double>(b.next_delay().count());
        ASSERT_GE(d, 0.0);
        ASSERT_LE(d, base);
        ++bins[std::min<std::size_t>(9, static_cast<std::size_t>(d / base * 10))];
        sum += d;
        lowest = std::min(lowest, d);
        highest = std::max(highest, d);
    }
    EXPECT_NEAR(sum / fleet / base, 0.5, 0.03);
    EXPECT_LT(lowest / base, 0.01);
    EXPECT_GT(highest / base, 0.99);
    for (int n : bins) // 200 expected per bin; 5 sigma is about +-67
        EXPECT_NEAR(n, fleet / 10, 70);
}

TEST(ClientBackoffPolicy, SameSeedSameDelaysDifferentSeedsDiffer) {
    backoff_config cfg;
    backoff x(cfg, seeded_uniform_source(7)), y(cfg, seeded_uniform_source(7)),
        z(cfg, seeded_uniform_source(8));
    int differ = 0;
    for (int i = 0; i < 20; ++i) {
        const duration dx = x.next_delay();
        EXPECT_EQ(dx, y.next_delay());
        differ += dx != z.next_delay();
    }
    EXPECT_GE(differ, 19);
}

// Proportional jitter (gRPC): base * (1 +- jitter), clamped to max, for many draws, including
// once the base is at the cap (only the upper side is clamped).
TEST(ClientBackoffPolicy, ProportionalDelaysStayInTheirBandUnderTheCap) {
    backoff_config cfg;
    cfg.mode = backoff_jitter::proportional;
    cfg.initial = 1s;
    cfg.multiplier = 1.6;
    cfg.jitter = 0.2;
    cfg.max = 10s;
    for (std::uint64_t seed = 1; seed <= 50; ++seed) {
        backoff b(cfg, seeded_uniform_source(seed));
        for (unsigned n = 0; n < 12; ++n) {
            const double base = base_ns(cfg, n);
            const double d = static_cast<double>(b.next_delay().count());
            ASSERT_GE(d, base * 0.8 - 1.0) << "seed " << seed << " n " << n;
            ASSERT_LE(d, std::min(base * 1.2, 10e9) + 1.0) << "seed " << seed << " n " << n;
        }
    }
}

TEST(ClientBackoffPolicy, MultiplierOneKeepsAConstantBase) {
    backoff_config cfg;
    cfg.initial = 250ms;
    cfg.multiplier = 1.0;
    cfg.max = 250ms;
    backoff b(cfg, seeded_uniform_source(3));
    for (int i = 0; i < 100; ++i) {
        EXPECT_EQ(b.current_base(), 250ms);
        const duration d = b.next_delay();
        EXPECT_LE(d, 250ms);
    }
}

TEST(ClientBackoffPolicy, ResetAfterZeroMeansEverySessionResets) {
    backoff_config cfg;
    cfg.reset_after = duration::zero();
    backoff b(cfg, seeded_uniform_source(5));
    b.next_delay();
    b.next_delay();
    b.on_session_lived(duration::zero());
    EXPECT_EQ(b.attempts(), 0u);
    EXPECT_EQ(b.current_base(), cfg.initial);
}
