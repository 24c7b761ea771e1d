// The timing wheel against a plain reference (a map of due ticks): every entry fires exactly at
// its tick, once, across cascades, re-scheduling, cancellation, long idle jumps and the 2^32
// boundary of 32-bit ticks.
#include <heartbeat/core/timing_wheel.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

namespace hb = heartbeat;
using tick = hb::timing_wheel::tick;

namespace {

// The owner's side: each entry's deadline, as the wheel's contract asks.
struct owner {
    hb::timing_wheel wheel;
    std::vector<tick> due;
    std::vector<std::pair<tick, std::uint32_t>> fired; // (tick, id) in firing order

    explicit owner(std::size_t n, tick now = 0)
        : wheel(n, now), due(n, hb::timing_wheel::unscheduled) {}

    void schedule(std::uint32_t id, tick at) { due[id] = wheel.schedule(id, at); }
    void cancel(std::uint32_t id) { due[id] = hb::timing_wheel::unscheduled; }
    std::vector<std::pair<tick, std::uint32_t>> advance(tick now) {
        fired.clear();
        wheel.advance(
            now, [&](std::uint32_t id) { return due[id]; },
            [&](std::uint32_t id, tick at) {
                EXPECT_EQ(due[id], at);
                due[id] = hb::timing_wheel::unscheduled;
                fired.emplace_back(at, id);
            });
        return fired;
    }
};

using firing = std::vector<std::pair<tick, std::uint32_t>>;

} // namespace

TEST(TimingWheel, FiresEachEntryAtItsOwnTick) {
    owner o(4);
    o.schedule(0, 5);
    o.schedule(1, 300);         // level 1, cascades once
    o.schedule(2, 70000);       // level 2, cascades twice
    o.schedule(3, 0xffff'0000); // level 3, 2^32 - 65536 ticks ahead
    EXPECT_EQ(o.wheel.stored(), 4u);
    EXPECT_TRUE(o.advance(4).empty());
    EXPECT_EQ(o.advance(5), (firing{{5, 0}}));
    EXPECT_EQ(o.wheel.next_event(), 256u); // the cascade of level 1's slot 1
    EXPECT_TRUE(o.advance(299).empty());
    EXPECT_EQ(o.advance(100000), (firing{{300, 1}, {70000, 2}}));
    EXPECT_EQ(o.advance(0xffff'0000), (firing{{0xffff'0000, 3}}));
    o.schedule(3, 0x1'0000'0005); // across the 2^32 boundary: level 4
    EXPECT_TRUE(o.advance(0x1'0000'0004).empty());
    EXPECT_EQ(o.advance(0x1'0000'0005), (firing{{0x1'0000'0005, 3}}));
    EXPECT_EQ(o.wheel.stored(), 0u);
    EXPECT_EQ(o.wheel.next_event(), hb::timing_wheel::unscheduled);
    EXPECT_EQ(o.wheel.current(), 0x1'0000'0006u);
}

TEST(TimingWheel, RescheduledAndCancelledEntriesLeaveOnlyStaleCopies) {
    owner o(3);
    o.schedule(0, 1000);
    o.schedule(1, 1000);
    o.schedule(2, 1000);
    o.cancel(1);
    o.schedule(2, 10);   // earlier
    o.schedule(0, 5000); // later
    o.schedule(0, 1000); // and back: two live copies at 1000, it fires once
    EXPECT_EQ(o.advance(4999), (firing{{10, 2}, {1000, 0}}));
    EXPECT_TRUE(o.advance(6000).empty());
    EXPECT_EQ(o.wheel.stored(), 0u) << "stale copies are dropped when their slot comes due";
}

TEST(TimingWheel, APassedTickFiresOnTheNextAdvance) {
    owner o(1, 1000);
    o.schedule(0, 10);
    EXPECT_EQ(o.due[0], 1000u);
    EXPECT_EQ(o.advance(1000), (firing{{1000, 0}}));
}

TEST(TimingWheel, AnEntryRescheduledFromItsCallbackFiresOnTheNextTick) {
    hb::timing_wheel w(1);
    tick due = w.schedule(0, 7);
    std::vector<tick> dues;
    w.advance(
        20, [&](std::uint32_t) { return due; },
        [&](std::uint32_t id, tick at) {
            dues.push_back(at);
            due = dues.size() < 3 ? w.schedule(id, at) : hb::timing_wheel::unscheduled;
        });
    EXPECT_EQ(dues, (std::vector<tick>{7, 8, 9}));
}

TEST(TimingWheel, ThePoolStopsGrowingInSteadyState) {
    owner o(3000);
    tick now = 0;
    for (std::uint32_t id = 0; id < 3000; ++id)
        o.schedule(id, 1 + id % 1000);
    std::size_t footprint = 0;
    for (int round = 0; round < 20; ++round) {
        for (int ms = 0; ms < 1000; ++ms) {
            for (auto [at, id] : o.advance(++now))
                o.schedule(id, at + 1000); // 1 Hz
        }
        if (round == 2)
            footprint = o.wheel.footprint_bytes();
    }
    EXPECT_EQ(o.wheel.footprint_bytes(), footprint);
    EXPECT_EQ(o.wheel.stored(), 3000u);
}

// Random schedules, re-schedules and cancellations, advanced in random steps (from one tick to
// whole idle stretches), starting just below 2^32: the wheel fires exactly what the reference
// says, in tick order.
TEST(TimingWheel, MatchesAReferenceOnRandomSchedules) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        std::mt19937_64 rng(seed);
        const std::uint32_t n = 64;
        const tick start = 0xffff'0000u + (rng() % 0x20000);
        owner o(n, start);
        std::map<std::uint32_t, tick> expected; // id -> due
        tick now = start;
        auto random_delay = [&]() -> tick {
            switch (rng() % 4) {
            case 0:
                return rng() % 300;
            case 1:
                return rng() % 70000;
            case 2:
                return rng() % 20'000'000;
            default:
                return rng() % 0xffff'ffffu;
            }
        };
        for (int step = 0; step < 400; ++step) {
            const std::uint32_t id = static_cast<std::uint32_t>(rng() % n);
            if (rng() % 5 == 0) {
                o.cancel(id);
                expected.erase(id);
            } else {
                const tick at = now + random_delay();
                o.schedule(id, at);
                expected[id] = at;
            }
            const tick target = now + (rng() % 3 == 0 ? random_delay() : rng() % 50);
            firing want;
            for (auto it = expected.begin(); it != expected.end();) {
                if (it->second <= target) {
                    want.emplace_back(it->second, it->first);
                    it = expected.erase(it);
                } else {
                    ++it;
                }
            }
            std::sort(want.begin(), want.end());
            firing got = o.advance(target);
            for (std::size_t i = 1; i < got.size(); ++i)
                ASSERT_LE(got[i - 1].first, got[i].first) << "fired out of tick order";
            std::sort(got.begin(), got.end()); // same tick: order within a slot is unspecified
            ASSERT_EQ(got, want) << "seed " << seed << " step " << step;
            now = target + 1;
            ASSERT_EQ(o.wheel.current(), now);
        }
    }
}
