#include "session_options.hpp"
#include "usage_error.hpp"

#include <gtest/gtest.h>

using namespace heartbeat::cli;
using namespace std::chrono_literals;

namespace {
std::string error_of(const heartbeat_flags& f) {
    try {
        make_session_config(f);
    } catch (const usage_error& e) {
        return e.what();
    }
    return "";
}
} // namespace

TEST(SessionOptions, DefaultsAreOneSecondOneSecondThreeMisses) {
    const auto c = make_session_config({});
    EXPECT_EQ(c.heartbeat.interval, 1s);
    EXPECT_EQ(c.heartbeat.pong_timeout, 1s);
    EXPECT_EQ(c.heartbeat.max_missed, 3u);
    EXPECT_DOUBLE_EQ(c.heartbeat.jitter, 0.1);
    EXPECT_EQ(c.min_peer_ping_interval, 0ms);
}

TEST(SessionOptions, FlagsReachTheSessionConfig) {
    heartbeat_flags f;
    f.interval = "200ms";
    f.timeout = "0.3s";
    f.misses = "5";
    f.jitter = "0";
    f.min_interval = "100ms";
    const auto c = make_session_config(f);
    EXPECT_EQ(c.heartbeat.interval, 200ms);
    EXPECT_EQ(c.heartbeat.pong_timeout, 300ms);
    EXPECT_EQ(c.heartbeat.max_missed, 5u);
    EXPECT_DOUBLE_EQ(c.heartbeat.jitter, 0.0);
    EXPECT_EQ(c.min_peer_ping_interval, 100ms);
}

TEST(SessionOptions, ParseErrorsNameTheFlag) {
    heartbeat_flags f;
    f.interval = "abc";
    EXPECT_EQ(error_of(f),
              "--interval: invalid duration 'abc' (use ms, s or m suffix, e.g. 250ms, 1.5s, 2m)");
    f = {};
    f.misses = "three";
    EXPECT_EQ(error_of(f).rfind("--misses: invalid count 'three'", 0), 0u);
    f = {};
    f.jitter = "1e-1";
    EXPECT_EQ(error_of(f).rfind("--jitter: invalid fraction", 0), 0u);
}

TEST(SessionOptions, ValidationErrorsNameTheFlagAndTheField) {
    heartbeat_flags f;
    f.interval = "0ms";
    EXPECT_EQ(error_of(f), "--interval: must be > 0 (session_config.heartbeat.interval)");
    f = {};
    f.misses = "0";
    EXPECT_EQ(error_of(f).rfind("--misses: must be in [1, 1000]", 0), 0u);
    f = {};
    f.jitter = "0.6";
    EXPECT_EQ(error_of(f).rfind("--jitter: must be in [0, 0.5]", 0), 0u);
    f = {};
    f.timeout = "25h";
    EXPECT_NE(error_of(f), ""); // unknown unit
    f.timeout = "1500m";
    EXPECT_EQ(error_of(f).rfind("--timeout: must be <= 24h", 0), 0u);
}
