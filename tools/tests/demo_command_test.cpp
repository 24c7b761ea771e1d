#include "demo_command.hpp"
#include "usage_error.hpp"

#include <gtest/gtest.h>

using namespace heartbeat::cli;
using namespace std::chrono_literals;

TEST(DemoCommand, DefaultsAreTheScenariosOwn) {
    const auto o = make_demo_options({});
    const heartbeat::demo::options d;
    EXPECT_EQ(o.interval, d.interval);
    EXPECT_EQ(o.timeout, d.timeout);
    EXPECT_EQ(o.misses, d.misses);
    EXPECT_EQ(o.freeze_at, d.freeze_at);
    EXPECT_EQ(o.recover_at, d.recover_at);
    EXPECT_EQ(o.stream_for, d.stream_for);
    EXPECT_EQ(o.rate_per_second, d.rate_per_second);
}

TEST(DemoCommand, FlagsMapAndTheTimelineStretchesWithTheBudget) {
    demo_args a;
    a.heartbeat.interval = "1s";
    a.heartbeat.timeout = "0.5s";
    a.heartbeat.misses = "4";
    const auto o = make_demo_options(a);
    EXPECT_EQ(o.interval, 1000ms);
    EXPECT_EQ(o.timeout, 500ms);
    EXPECT_EQ(o.misses, 4u);
    EXPECT_EQ(o.freeze_at, 3s);
    EXPECT_EQ(o.recover_at, 3s + 3s + 3s); // hang + budget (3 s) + 3 s
    EXPECT_EQ(o.stream_for, o.recover_at + 4s);
    a.heartbeat.interval = "0.5ms";
    EXPECT_EQ(make_demo_options(a).interval, 1ms); // whole milliseconds, never 0
}

TEST(DemoCommand, BadFlagsNameTheFlag) {
    const auto error_of = [](demo_args a) -> std::string {
        try {
            make_demo_options(a);
        } catch (const usage_error& e) {
            return e.what();
        }
        return "";
    };
    demo_args a;
    a.heartbeat.misses = "0";
    EXPECT_EQ(error_of(a).rfind("--misses: must be in [1, 1000]", 0), 0u);
    a = {};
    a.heartbeat.timeout = "fast";
    EXPECT_EQ(error_of(a).rfind("--timeout: invalid duration", 0), 0u);
    a = {};
    a.heartbeat.timeout = "30s";
    EXPECT_NE(error_of(a).find("<= 60s"), std::string::npos);
}
