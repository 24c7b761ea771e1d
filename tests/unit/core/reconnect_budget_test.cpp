#include <heartbeat/core/reconnect_budget.hpp>

#include <gtest/gtest.h>

using namespace std::chrono_literals;
namespace hb = heartbeat;

TEST(ReconnectBudget, BurstIsFreeThenWaitsSpreadAtTheRate) {
    hb::reconnect_budget budget({.rate_per_second = 10.0, .burst = 3.0});
    const hb::time_point t0{};
    EXPECT_EQ(budget.reserve(t0), 0ms);
    EXPECT_EQ(budget.reserve(t0), 0ms);
    EXPECT_EQ(budget.reserve(t0), 0ms);
    EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(budget.reserve(t0)), 100ms);
    EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(budget.reserve(t0)), 200ms);
    EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(budget.reserve(t0)), 300ms);
}

TEST(ReconnectBudget, RefillsOverTimeUpToTheBurst) {
    hb::reconnect_budget budget({.rate_per_second = 10.0, .burst = 2.0});
    const hb::time_point t0{};
    budget.reserve(t0);
    budget.reserve(t0);
    EXPECT_GT(budget.reserve(t0), 0ms);       // empty (now owes one token)
    EXPECT_EQ(budget.reserve(t0 + 10s), 0ms); // refilled, capped at the burst of 2
    EXPECT_EQ(budget.reserve(t0 + 10s), 0ms);
    EXPECT_GT(budget.reserve(t0 + 10s), 0ms);
}

TEST(ReconnectBudget, TwoHundredSimultaneousReconnectsSpreadOverTime) {
    hb::reconnect_budget budget({.rate_per_second = 50.0, .burst = 20.0});
    const hb::time_point t0{};
    hb::duration latest{};
    int immediate = 0;
    for (int i = 0; i < 200; ++i) {
        const auto wait = budget.reserve(t0);
        immediate += wait == hb::duration::zero();
        latest = std::max(latest, wait);
    }
    EXPECT_EQ(immediate, 20);
    EXPECT_EQ(std::chrono::round<std::chrono::milliseconds>(latest), 3600ms); // 180 / 50 per s
}
