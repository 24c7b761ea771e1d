// With metrics on, the heartbeat path allocates nothing: the series is resolved once, when the
// session's observer is built, and every ping, pong, miss and round trip afterwards only adds to
// relaxed atomics of fixed storage. Counted with a replaced operator new (the trick of
// benchmarks/harness_alloc_count.cpp), around N ping/pong cycles of a real heartbeat monitor fed
// through the same session_observer the session core uses, on a fake timeline.
#include "../core/monitor_test_config.hpp"

#include <heartbeat/protocol/native/session_config.hpp>
#include <heartbeat/session/session_observer.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <new>

namespace {
std::atomic<std::uint64_t> allocations{0};
} // namespace

void* operator new(std::size_t n) {
    allocations.fetch_add(1, std::memory_order_relaxed);
    if (void* p = std::malloc(n ? n : 1))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    return ::operator new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    allocations.fetch_add(1, std::memory_order_relaxed);
    return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
    return ::operator new(n, t);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}

namespace {

using namespace heartbeat;
using namespace std::chrono_literals;

struct cycle_counts {
    std::uint64_t allocations = 0;
    std::uint64_t pongs = 0;
};

// Runs `cycles` ping/pong rounds (one pong in eight is lost: a miss, suspect, a fresh ping whose
// pong makes the peer alive again)
// and returns the allocations made during them.
cycle_counts run_cycles(const session_config& config, int cycles) {
    heartbeat_monitor monitor(config.heartbeat, [] { return 0.5; });
    detail::session_observer observer(config, "native");
    time_point now{seconds(1000)};
    observer.started();
    observer.opened();
    const auto feed = [&](const monitor_step& step, peer_state before) {
        observer.after_step(step, before, monitor, now);
    };
    peer_state before = monitor.state();
    feed(monitor.start(now), before);

    cycle_counts out;
    // Cycle 0 is a warm-up, not counted: the monitor allocates once on its first ping cycle,
    // with metrics off as well (HeartbeatPathAllocations.SameWithMetricsOff).
    auto start = allocations.load(std::memory_order_relaxed);
    for (int i = 0; i <= cycles; ++i) {
        if (i == 1)
            start = allocations.load(std::memory_order_relaxed);
        now = monitor.next_deadline();
        before = monitor.state();
        const monitor_step ping = monitor.on_timer(now);
        feed(ping, before);
        if (!ping.send_ping)
            continue;
        monitor.on_ping_written(ping.send_ping, now);
        std::uint64_t answered = ping.send_ping;
        if (i % 8 == 7) { // this pong is lost: the deadline passes, the monitor pings again
            now = monitor.next_deadline();
            before = monitor.state();
            const monitor_step miss = monitor.on_timer(now);
            feed(miss, before);
            if (!miss.send_ping)
                continue;
            monitor.on_ping_written(miss.send_ping, now);
            answered = miss.send_ping;
        }
        now += 3ms;
        before = monitor.state();
        const monitor_step pong = monitor.on_pong(answered, now);
        feed(pong, before);
        out.pongs += pong.rtt ? 1 : 0;
    }
    out.allocations = allocations.load(std::memory_order_relaxed) - start;
    return out;
}

session_config with_metrics(std::shared_ptr<metrics::registry> r) {
    session_config c;
    c.heartbeat = test::base_config();
    c.metrics = std::move(r);
    c.metrics_labels = std::make_shared<const metrics::series_labels>(
        metrics::series_labels{"client", "native", "tcp://127.0.0.1:1", ""});
    return c;
}

TEST(HeartbeatPathAllocations, NoneWithMetricsOn) {
    auto registry = metrics::registry::create();
    constexpr int cycles = 10000;
    const auto counts = run_cycles(with_metrics(registry), cycles);
    EXPECT_EQ(counts.allocations, 0u);

    // The cycles did report: this is not a test of a switched-off path.
    const auto snap = registry->snapshot();
    ASSERT_EQ(snap.series.size(), 1u);
    const auto& s = snap.series[0];
    EXPECT_GE(s.pings_sent, static_cast<std::uint64_t>(cycles));
    EXPECT_EQ(s.pongs_missed, static_cast<std::uint64_t>((cycles + 1) / 8));
    EXPECT_EQ(s.pongs_received + s.pongs_missed, s.pings_sent); // every lost pong was missed
    EXPECT_EQ(s.rtt_seconds.count(), counts.pongs);
    EXPECT_GT(counts.pongs, 0u);
}

TEST(HeartbeatPathAllocations, SameWithMetricsOff) {
    session_config off;
    off.heartbeat = test::base_config();
    EXPECT_EQ(run_cycles(off, 1000).allocations, 0u);
}

TEST(HeartbeatPathAllocations, CounterSeesAnAllocation) {
    // The counter works: a test that cannot fail proves nothing.
    const auto before = allocations.load();
    auto* p = new int(7);
    EXPECT_EQ(allocations.load() - before, 1u);
    delete p;
}

} // namespace
