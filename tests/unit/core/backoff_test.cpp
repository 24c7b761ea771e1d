#include <heartbeat/core/backoff.hpp>

#include <gtest/gtest.h>

#include <cstddef>
#include <memory>
#include <vector>

namespace {

using namespace heartbeat;

// Hands out `values` in order, then repeats the last one; counts the draws.
struct scripted {
    std::shared_ptr<std::vector<double>> values;
    std::shared_ptr<std::size_t> draws = std::make_shared<std::size_t>(0);

    explicit scripted(std::vector<double> v)
        : values(std::make_shared<std::vector<double>>(std::move(v))) {}

    uniform_source source() const {
        return [values = values, draws = draws] {
            const std::size_t i = std::min(*draws, values->size() - 1);
            ++*draws;
            return (*values)[i];
        };
    }
};

backoff_config full_config() {
    backoff_config cfg;
    cfg.mode = backoff_jitter::full;
    return cfg;
}

backoff_config proportional_config() {
    backoff_config cfg;
    cfg.mode = backoff_jitter::proportional;
    return cfg;
}

// With jitter 0 the proportional delay equals the base, which exposes the growth exactly.
backoff_config unjittered_config() {
    backoff_config cfg = proportional_config();
    cfg.jitter = 0.0;
    return cfg;
}

TEST(Backoff, DefaultsMatchTheDocumentedGrpcParameters) {
    const backoff_config cfg;
    EXPECT_EQ(cfg.initial, seconds(1));
    EXPECT_DOUBLE_EQ(cfg.multiplier, 1.6);
    EXPECT_DOUBLE_EQ(cfg.jitter, 0.2);
    EXPECT_EQ(cfg.max, seconds(120));
    EXPECT_EQ(cfg.mode, backoff_jitter::full);
    EXPECT_EQ(cfg.reset_after, seconds(10));
}

TEST(Backoff, BaseGrowsByTheMultiplierExactly) {
    backoff b(unjittered_config(), scripted({0.5}).source());
    // 1.6^n seconds, each exact to the nanosecond.
    const std::vector<duration> expected = {
        nanoseconds(1'000'000'000),  nanoseconds(1'600'000'000),  nanoseconds(2'560'000'000),
        nanoseconds(4'096'000'000),  nanoseconds(6'553'600'000),  nanoseconds(10'485'760'000),
        nanoseconds(16'777'216'000), nanoseconds(26'843'545'600), nanoseconds(42'949'672'960),
        nanoseconds(68'719'476'736),
    };
    for (std::size_t n = 0; n < expected.size(); ++n) {
        SCOPED_TRACE(n);
        EXPECT_EQ(b.attempts(), n);
        EXPECT_EQ(b.current_base(), expected[n]);
        EXPECT_EQ(b.next_delay(), expected[n]);
    }
    EXPECT_EQ(b.attempts(), expected.size());
    // 1.6^10 s = 109.9511627776 s, still under the cap; rounded to the nearest nanosecond.
    EXPECT_EQ(b.current_base(), nanoseconds(109'951'162'778));
}

TEST(Backoff, BaseIsCappedAtMax) {
    backoff b(unjittered_config(), scripted({0.5}).source());
    for (int i = 0; i < 11; ++i)
        b.next_delay();
    // 1.6^11 s = 175.9 s > 120 s.
    EXPECT_EQ(b.current_base(), seconds(120));
    EXPECT_EQ(b.next_delay(), seconds(120));
    EXPECT_EQ(b.next_delay(), seconds(120));
}

TEST(Backoff, ThousandsOfAttemptsStayAtTheCap) {
    backoff b(full_config(), scripted({0.999999}).source());
    duration last{};
    for (int i = 0; i < 5000; ++i)
        last = b.next_delay();
    EXPECT_EQ(b.attempts(), 5000u);
    EXPECT_EQ(b.current_base(), seconds(120));
    EXPECT_GT(last, seconds(119));
    EXPECT_LE(last, seconds(120));
}

TEST(Backoff, FullJitterSpansZeroToBase) {
    scripted rng({0.0, 0.5, 0.999999, 0.25});
    backoff b(full_config(), rng.source());
    EXPECT_EQ(b.next_delay(), duration::zero());           // base 1 s, u = 0
    EXPECT_EQ(b.next_delay(), milliseconds(800));          // base 1.6 s, u = 0.5
    EXPECT_EQ(b.next_delay(), nanoseconds(2'559'997'440)); // base 2.56 s, u -> 1
    EXPECT_EQ(b.next_delay(), milliseconds(1024));         // base 4.096 s, u = 0.25
    EXPECT_EQ(*rng.draws, 4u);
}

TEST(Backoff, FullJitterNeverExceedsBaseEvenWithABadSource) {
    backoff b(full_config(), scripted({1.5, -0.5}).source());
    EXPECT_EQ(b.next_delay(), seconds(1));
    EXPECT_EQ(b.next_delay(), duration::zero());
}

TEST(Backoff, ProportionalJitterIsPlusMinusTwentyPercent) {
    backoff b(proportional_config(), scripted({0.0, 0.5, 0.999999}).source());
    EXPECT_EQ(b.next_delay(), milliseconds(800));  // 1 s * (1 - 0.2)
    EXPECT_EQ(b.next_delay(), milliseconds(1600)); // 1.6 s * 1
    const duration high = b.next_delay();          // 2.56 s * (1 + 0.2 * 0.999998)
    EXPECT_GT(high, milliseconds(3071));
    EXPECT_LE(high, milliseconds(3072));
}

TEST(Backoff, ProportionalJitterIsClampedToMax) {
    backoff_config cfg = proportional_config();
    cfg.initial = seconds(120);
    backoff b(cfg, scripted({0.999999, 0.0}).source());
    EXPECT_EQ(b.next_delay(), seconds(120)); // 144 s before the clamp
    EXPECT_EQ(b.next_delay(), seconds(96));  // the low side is not clamped
}

TEST(Backoff, ResetStartsOverFromInitial) {
    backoff b(unjittered_config(), scripted({0.5}).source());
    b.next_delay();
    b.next_delay();
    b.next_delay();
    ASSERT_EQ(b.attempts(), 3u);
    b.reset();
    EXPECT_EQ(b.attempts(), 0u);
    EXPECT_EQ(b.current_base(), seconds(1));
    EXPECT_EQ(b.next_delay(), seconds(1));
    EXPECT_EQ(b.next_delay(), milliseconds(1600));
}

TEST(Backoff, ShortSessionDoesNotReset) {
    backoff b(unjittered_config(), scripted({0.5}).source());
    b.next_delay();
    b.next_delay();
    b.on_session_lived(seconds(10) - nanoseconds(1));
    EXPECT_EQ(b.attempts(), 2u);
    EXPECT_EQ(b.current_base(), milliseconds(2560));
}

TEST(Backoff, SessionThatLivedResetAfterResets) {
    backoff b(unjittered_config(), scripted({0.5}).source());
    b.next_delay();
    b.next_delay();
    b.on_session_lived(seconds(10));
    EXPECT_EQ(b.attempts(), 0u);
    EXPECT_EQ(b.current_base(), seconds(1));
}

TEST(Backoff, CustomInitialMultiplierAndMax) {
    backoff_config cfg = unjittered_config();
    cfg.initial = milliseconds(100);
    cfg.multiplier = 2.0;
    cfg.max = milliseconds(500);
    backoff b(cfg, scripted({0.5}).source());
    EXPECT_EQ(b.next_delay(), milliseconds(100));
    EXPECT_EQ(b.next_delay(), milliseconds(200));
    EXPECT_EQ(b.next_delay(), milliseconds(400));
    EXPECT_EQ(b.next_delay(), milliseconds(500));
    EXPECT_EQ(b.next_delay(), milliseconds(500));
}

TEST(Backoff, EmptySourceFallsBackToARealGenerator) {
    backoff b(full_config(), uniform_source{});
    const duration d = b.next_delay();
    EXPECT_GE(d, duration::zero());
    EXPECT_LE(d, seconds(1));
    EXPECT_EQ(b.attempts(), 1u);
}

} // namespace
