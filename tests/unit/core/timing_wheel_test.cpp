// The timing wheel against a plain reference (a map of due ticks): every entry fires exactly at
// its tick, once, across cascades, long idle jumps and the 2^32 boundary of its stored ticks.
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

struct fired {
    std::uint32_t id;
    tick due;
    tick at; // the tick being processed when it fired
};

std::vector<fired> advance_to(hb::timing_wheel& w, tick now) {
    std::vector<fired> out;
    w.advance(now, [&](hb::timing_wheel::entry_id id, tick due) { out.push_back({id, due, due}); });
    return out;
}

} // namespace

TEST(TimingWheel, FiresEachEntryAtItsOwnTick) {
    hb::timing_wheel w(4);
    w.link(0, 5);
    w.link(1, 300);           // level 1, cascades once
    w.link(2, 70000);         // level 2, cascades twice
    w.link(3, 0x1'0000'0005); // beyond 2^32 from 0 would be too far; 2^32 + 5 is just within
    EXPECT_EQ(w.size(), 4u);
    auto f = advance_to(w, 4);
    EXPECT_TRUE(f.empty());
    f = advance_to(w, 5);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].id, 0u);
    EXPECT_EQ(f[0].due, 5u);
    EXPECT_EQ(w.next_event(), 256u); // the cascade of level 1's slot 1
    f = advance_to(w, 299);
    EXPECT_TRUE(f.empty());
    f = advance_to(w, 100000);
    ASSERT_EQ(f.size(), 2u);
    EXPECT_EQ(f[0].due, 300u);
    EXPECT_EQ(f[1].due, 70000u);
    f = advance_to(w, 0x1'0000'0004);
    EXPECT_TRUE(f.empty());
    f = advance_to(w, 0x1'0000'0005);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].id, 3u);
    EXPECT_EQ(w.size(), 0u);
    EXPECT_EQ(w.next_event(), ~tick{0});
    EXPECT_EQ(w.current(), 0x1'0000'0006u);
}

TEST(TimingWheel, UnlinkAndRelinkMoveAnEntry) {
    hb::timing_wheel w(3);
    w.link(0, 1000);
    w.link(1, 1000);
    w.link(2, 1000);
    w.unlink(1);     // middle of a slot's list
    w.link(2, 10);   // moved earlier
    w.link(0, 5000); // moved later
    EXPECT_FALSE(w.linked(1));
    EXPECT_EQ(w.due(2), 10u);
    auto f = advance_to(w, 4999);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].id, 2u);
    EXPECT_EQ(f[0].due, 10u);
    f = advance_to(w, 5000);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].id, 0u);
}

TEST(TimingWheel, APassedTickFiresOnTheNextAdvance) {
    hb::timing_wheel w(1, 1000);
    w.link(0, 10);
    EXPECT_EQ(w.due(0), 1000u);
    auto f = advance_to(w, 1000);
    ASSERT_EQ(f.size(), 1u);
    EXPECT_EQ(f[0].due, 1000u);
}

TEST(TimingWheel, AnEntryRelinkedFromItsCallbackFiresOnTheNextTick) {
    hb::timing_wheel w(1);
    w.link(0, 7);
    std::vector<tick> dues;
    w.advance(20, [&](std::uint32_t id, tick due) {
        dues.push_back(due);
        if (dues.size() < 3)
            w.link(id, due); // already passed: fires on the following tick, not in a loop
    });
    EXPECT_EQ(dues, (std::vector<tick>{7, 8, 9}));
}

// Random links, re-links and unlinks, advanced in random steps (from 1 tick to whole idle
// stretches), starting just below 2^32 so stored 32-bit ticks wrap: the wheel fires exactly
// what the reference says, in tick order.
TEST(TimingWheel, MatchesAReferenceOnRandomSchedules) {
    for (std::uint64_t seed = 1; seed <= 20; ++seed) {
        std::mt19937_64 rng(seed);
        const std::uint32_t n = 64;
        const tick start = 0xffff'0000u + (rng() % 0x20000);
        hb::timing_wheel w(n, start);
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
                w.unlink(id);
                expected.erase(id);
            } else {
                const tick at = now + random_delay();
                w.link(id, at);
                expected[id] = at;
            }
            ASSERT_EQ(w.size(), expected.size());
            const tick target = now + (rng() % 3 == 0 ? random_delay() : rng() % 50);
            std::vector<std::pair<tick, std::uint32_t>> want;
            for (auto it = expected.begin(); it != expected.end();) {
                if (it->second <= target) {
                    want.emplace_back(it->second, it->first);
                    it = expected.erase(it);
                } else {
                    ++it;
                }
            }
            std::sort(want.begin(), want.end());
            std::vector<std::pair<tick, std::uint32_t>> got;
            w.advance(target,
                      [&](std::uint32_t fired_id, tick due) { got.emplace_back(due, fired_id); });
            for (std::size_t i = 1; i < got.size(); ++i)
                ASSERT_LE(got[i - 1].first, got[i].first) << "fired out of tick order";
            std::sort(got.begin(), got.end()); // same tick: order within a slot is unspecified
            ASSERT_EQ(got, want) << "seed " << seed << " step " << step;
            now = target + 1;
            ASSERT_EQ(w.current(), now);
        }
    }
}
