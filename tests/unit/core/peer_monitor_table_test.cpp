// peer_monitor_table on exact fake-clock timelines: the verdict schedule, re-arm by traffic,
// removal, local stalls, a clock that crosses 2^32 ms, and the configs it refuses by name.
#include <heartbeat/core/error.hpp>
#include <heartbeat/core/peer_monitor_table.hpp>

#include "monitor_test_config.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace hb = heartbeat;
using namespace std::chrono_literals;

namespace {

using heartbeat::test::base_config;

struct seen {
    std::uint32_t peer;
    hb::peer_action_kind kind;
    long t_ms;
    bool operator==(const seen&) const = default;
};

struct recorder {
    hb::time_point origin;
    std::vector<seen> events;
    std::vector<hb::peer_action> dead;
    void operator()(const hb::peer_action& a) {
        events.push_back(
            {a.peer, a.kind, static_cast<long>((a.at - origin) / std::chrono::milliseconds(1))});
        if (a.kind == hb::peer_action_kind::dead)
            dead.push_back(a);
    }
};

// Advances every millisecond in [from, to], like a 1 ms driver timer.
void run(hb::peer_monitor_table& t, hb::time_point origin, long from, long to, recorder& r) {
    for (long ms = from; ms <= to; ++ms)
        t.advance(origin + std::chrono::milliseconds(ms), r);
}

using kind = hb::peer_action_kind;

} // namespace

TEST(PeerMonitorTable, SilentPeerIsPingedThenDeclaredDeadAfterTheBudget) {
    const hb::time_point origin{};
    hb::peer_monitor_table t(base_config(), 2, origin);
    recorder r{origin};
    const auto id = t.add(origin);
    ASSERT_TRUE(id);
    run(t, origin, 0, 5000, r);
    // Pings written at once by nobody: deadlines run from the request.
    const std::vector<seen> want{{*id, kind::send_ping, 1000},
                                 {*id, kind::send_ping, 1500},
                                 {*id, kind::suspect, 1500},
                                 {*id, kind::send_ping, 2000},
                                 {*id, kind::dead, 2500}};
    EXPECT_EQ(r.events, want);
    ASSERT_EQ(r.dead.size(), 1u);
    EXPECT_EQ(r.dead[0].missed, 3u);
    EXPECT_EQ(r.dead[0].silence, 2500ms);
    EXPECT_EQ(r.dead[0].stalled, 0ms);
    EXPECT_EQ(t.state(*id), hb::peer_state::dead);
    EXPECT_EQ(t.next_deadline(*id), hb::time_point::max());
}

TEST(PeerMonitorTable, InboundTrafficReArmsAndAPongRecoversASuspect) {
    const hb::time_point origin{};
    hb::peer_monitor_table t(base_config(), 1, origin);
    recorder r{origin};
    const auto id = *t.add(origin);
    // Traffic every 600 ms: never quiet for an interval, never pinged.
    for (long ms = 0; ms <= 3000; ++ms) {
        t.advance(origin + std::chrono::milliseconds(ms), r);
        if (ms % 600 == 0)
            t.on_inbound(id, origin + std::chrono::milliseconds(ms), r);
    }
    EXPECT_TRUE(r.events.empty());
    EXPECT_EQ(t.next_deadline(id), origin + 4000ms);
    EXPECT_EQ(t.last_heard(id), origin + 3000ms);
    // Quiet: ping at 4000, written at 4010, missed at 4510 (suspect), pong at 4600.
    run(t, origin, 3001, 4000, r);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0], (seen{id, kind::send_ping, 4000}));
    t.on_ping_written(id, 1, origin + 4010ms, r);
    run(t, origin, 4001, 4510, r);
    ASSERT_EQ(r.events.size(), 3u);
    EXPECT_EQ(r.events[1], (seen{id, kind::send_ping, 4510}));
    EXPECT_EQ(r.events[2], (seen{id, kind::suspect, 4510}));
    std::optional<hb::duration> rtt;
    EXPECT_FALSE(t.on_pong(id, 2, origin + 4600ms, r, &rtt));
    ASSERT_TRUE(rtt);
    EXPECT_EQ(*rtt, 90ms); // from the request: ping 2 was never reported written
    ASSERT_EQ(r.events.size(), 4u);
    EXPECT_EQ(r.events[3], (seen{id, kind::alive, 4600}));
    EXPECT_EQ(t.state(id), hb::peer_state::alive);
    EXPECT_EQ(t.next_deadline(id), origin + 5600ms);
}

TEST(PeerMonitorTable, PongForAPingNeverSentIsAnErrorAndChangesNothing) {
    const hb::time_point origin{};
    hb::peer_monitor_table t(base_config(), 1, origin);
    recorder r{origin};
    const auto id = *t.add(origin);
    EXPECT_EQ(t.on_pong(id, 1, origin + 10ms, r), hb::error::unexpected_pong);
    EXPECT_EQ(t.on_pong(id, 0, origin + 10ms, r), hb::error::unexpected_pong);
    EXPECT_EQ(t.last_heard(id), origin);
    // Ids outside the table: ignored, never written out of bounds.
    EXPECT_EQ(t.on_pong(7, 1, origin + 10ms, r), hb::error::unexpected_pong);
    t.on_inbound(7, origin + 10ms, r);
    t.on_ping_written(7, 1, origin + 10ms, r);
    t.remove(7);
    EXPECT_EQ(t.size(), 1u);
    EXPECT_TRUE(r.events.empty());
}

TEST(PeerMonitorTable, RemovedPeersFallSilentAndTheirIdsAreReused) {
    const hb::time_point origin{};
    hb::peer_monitor_table t(base_config(), 2, origin);
    recorder r{origin};
    const auto a = *t.add(origin);
    const auto b = *t.add(origin + 100ms);
    EXPECT_FALSE(t.add(origin)) << "capacity 2";
    t.remove(a);
    EXPECT_EQ(t.size(), 1u);
    run(t, origin, 0, 1200, r);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0], (seen{b, kind::send_ping, 1100}));
    const auto c = t.add(origin + 1200ms);
    ASSERT_TRUE(c);
    EXPECT_EQ(*c, a);
    EXPECT_EQ(t.state(*c), hb::peer_state::alive);
    EXPECT_EQ(t.next_deadline(*c), origin + 2200ms);
    t.remove(b);
    t.remove(b); // twice is harmless
    EXPECT_EQ(t.size(), 1u);
}

TEST(PeerMonitorTable, ALateAdvanceIsALocalStallNotAVerdict) {
    const hb::time_point origin{};
    hb::peer_monitor_table t(base_config(), 1, origin);
    recorder r{origin};
    const auto id = *t.add(origin);
    run(t, origin, 0, 1000, r); // ping 1 at 1000
    // Our process stalls 3 s: the next advance comes at 4000, 2500 ms after the 1500 deadline.
    t.advance(origin + 4000ms, r);
    ASSERT_EQ(r.events.size(), 2u);
    EXPECT_EQ(r.events[1], (seen{id, kind::send_ping, 4000})) << "re-ping, no verdict";
    EXPECT_EQ(t.state(id), hb::peer_state::alive);
    // The peer stays silent: dead once the budget of unstalled silence is used up.
    // Ping 2 (4000) misses at 4500, ping 3 at 5000, ping 4 at 5500: the third miss, and the
    // budget since the forgiven anchor (2500 + 2500) has passed.
    run(t, origin, 4001, 9000, r);
    ASSERT_EQ(r.dead.size(), 1u);
    EXPECT_EQ(r.dead[0].at, origin + 5500ms);
    EXPECT_EQ(r.dead[0].stalled, 2500ms);
    EXPECT_EQ(r.dead[0].silence, 5500ms);
}

// The table's clock runs past 2^32 ms (its per-peer ticks wrap) with the same schedule.
TEST(PeerMonitorTable, DecisionsAreTheSameAcrossTheTwoToThe32MillisecondWrap) {
    const hb::time_point origin{};
    const auto wrap = std::chrono::milliseconds(std::int64_t{1} << 32);
    hb::peer_monitor_table t(base_config(), 1, origin);
    recorder r{origin};
    const hb::time_point start = origin + wrap - 1200ms;
    const auto id = *t.add(start);
    const long s = static_cast<long>((start - origin) / 1ms);
    run(t, origin, s, s + 5000, r);
    const std::vector<seen> want{{id, kind::send_ping, s + 1000},
                                 {id, kind::send_ping, s + 1500},
                                 {id, kind::suspect, s + 1500},
                                 {id, kind::send_ping, s + 2000},
                                 {id, kind::dead, s + 2500}};
    EXPECT_EQ(r.events, want);
    ASSERT_EQ(r.dead.size(), 1u);
    EXPECT_EQ(r.dead[0].silence, 2500ms);
}

// A table idle for 2^32 ms and more (advance called rarely, nothing monitored) still schedules
// exactly afterwards.
TEST(PeerMonitorTable, LongIdleStretchesOfTheClockAreSkipped) {
    const hb::time_point origin{};
    hb::peer_monitor_table t(base_config(), 1, origin);
    recorder r{origin};
    const auto far = origin + std::chrono::milliseconds(std::int64_t{3} << 32) + 17ms;
    t.advance(origin + std::chrono::milliseconds(std::int64_t{1} << 32), r);
    const auto id = *t.add(far);
    EXPECT_EQ(t.next_deadline(id), far + 1000ms);
    t.advance(far + 999ms, r);
    EXPECT_TRUE(r.events.empty());
    t.advance(far + 1000ms, r);
    ASSERT_EQ(r.events.size(), 1u);
    EXPECT_EQ(r.events[0].kind, kind::send_ping);
}

TEST(PeerMonitorTable, JitteredIntervalsStayInBoundsAndDiffer) {
    auto config = base_config();
    config.jitter = 0.2;
    const hb::time_point origin{};
    hb::peer_monitor_table t(config, 100, origin, 42);
    recorder r{origin};
    for (int i = 0; i < 100; ++i)
        ASSERT_TRUE(t.add(origin));
    run(t, origin, 0, 1250, r); // before any first ping's reply deadline (>= 1300)
    ASSERT_EQ(r.events.size(), 100u);
    long first = 1 << 30, last = 0;
    for (const auto& e : r.events) {
        EXPECT_EQ(e.kind, kind::send_ping);
        EXPECT_GE(e.t_ms, 800);
        EXPECT_LE(e.t_ms, 1200);
        first = std::min(first, e.t_ms);
        last = std::max(last, e.t_ms);
    }
    EXPECT_GT(last - first, 100) << "a fleet must not ping in lockstep";
}

TEST(PeerMonitorTable, RefusesWhatItCannotHonourByName) {
    auto field_of = [](hb::monitor_config c) {
        auto e = hb::peer_monitor_table::validate(c);
        return e ? e->field : std::string("ok");
    };
    auto c = base_config();
    EXPECT_EQ(field_of(c), "ok");
    c.detector = hb::detector_kind::phi_accrual;
    EXPECT_EQ(field_of(c), "monitor_config.detector");
    c = base_config();
    c.adaptive_pong_timeout = true;
    EXPECT_EQ(field_of(c), "monitor_config.adaptive_pong_timeout");
    c = base_config();
    c.pong_timeout = 1500us;
    EXPECT_EQ(field_of(c), "monitor_config.pong_timeout");
    c = base_config();
    c.interval = std::chrono::hours(24 * 30);
    EXPECT_EQ(field_of(c), "monitor_config.interval");
    c = base_config();
    c.max_missed = 300;
    EXPECT_EQ(field_of(c), "monitor_config.max_missed");
    c = base_config();
    c.interval = 0ms;
    EXPECT_EQ(field_of(c), "monitor_config.interval"); // the general rule, named as ever
    try {
        hb::peer_monitor_table bad(c, 1, hb::time_point{});
        ADD_FAILURE() << "constructed with an invalid config";
    } catch (const std::invalid_argument& e) {
        EXPECT_NE(std::string(e.what()).find("monitor_config.interval"), std::string::npos);
    }
}

TEST(PeerMonitorTable, PerPeerStateStaysSmall) {
    EXPECT_LE(hb::peer_monitor_table::bytes_per_peer, 40u);
    hb::peer_monitor_table t(base_config(), 100000, hb::time_point{});
    EXPECT_LT(t.footprint_bytes() / 100000.0, 48.0); // issue 14 asks < 100
}
