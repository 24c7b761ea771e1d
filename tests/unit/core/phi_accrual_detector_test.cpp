#include <heartbeat/core/phi_accrual_detector.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace {

using namespace heartbeat;

time_point at(double ms) {
    return time_point{} +
           std::chrono::duration_cast<duration>(std::chrono::duration<double, std::milli>(ms));
}

// Reference values: the standard normal upper tail Q(z) from tables, phi = -log10(Q(z)).
//   z = 0: Q = 0.5          phi = 0.301030
//   z = 1: Q = 0.158655     phi = 0.799546
//   z = 2: Q = 0.0227501    phi = 1.643016
//   z = 3: Q = 0.00134990   phi = 2.869699
//   z = 4: Q = 3.16712e-5   phi = 4.499335
//   z = 5: Q = 2.86652e-7   phi = 6.542646
// Thresholds: Q(z) = 1e-3 at z = 3.0902323, Q(z) = 1e-8 at z = 5.6120012.
constexpr double phi_z0 = 0.30103;
constexpr double phi_z1 = 0.799546;
constexpr double phi_z2 = 1.643016;
constexpr double phi_z3 = 2.869699;
constexpr double phi_z4 = 4.499335;
constexpr double phi_z5 = 6.542646;
constexpr double z_phi3 = 3.0902323;
constexpr double z_phi8 = 5.6120012;
constexpr double tol = 1e-5;

phi_accrual_config config_with_window(std::size_t window) {
    phi_accrual_config cfg;
    cfg.window_size = window;
    return cfg;
}

// Window of two silences, 900 and 1100 ms: mean 1000 ms, (population) std-dev 100 ms. The last
// heartbeat arrives at t = 2000 ms.
phi_accrual_detector mean_1000_sd_100(phi_accrual_config cfg = config_with_window(2)) {
    phi_accrual_detector d(cfg, at(0));
    d.record_alive(at(900));
    d.record_alive(at(2000));
    return d;
}

TEST(PhiAccrualDetector, BootstrapPriorIsFirstEstimateWithQuarterStdDev) {
    phi_accrual_detector d(phi_accrual_config{}, at(0));
    EXPECT_EQ(d.sample_count(), 2u);
    EXPECT_DOUBLE_EQ(d.mean_ms(), 1000.0);
    EXPECT_DOUBLE_EQ(d.std_dev_ms(), 250.0);
    EXPECT_EQ(d.last_arrival(), at(0));
    // Right after the reset phi is near 0 (z = -4), at the mean it is -log10(0.5).
    EXPECT_LT(d.phi(at(0)), 1e-4);
    EXPECT_NEAR(d.phi(at(1000)), phi_z0, tol);
    EXPECT_NEAR(d.phi(at(1500)), phi_z2, tol); // z = 500 / 250
    EXPECT_EQ(d.assess(at(1000)), health::alive);
}

TEST(PhiAccrualDetector, BootstrapTransitionsBeforeAnySample) {
    phi_accrual_detector d(phi_accrual_config{}, at(0));
    // Suspect at 1000 + 3.0902323 * 250 = 1772.558 ms, dead at 1000 + 5.6120012 * 250 = 2403.000.
    EXPECT_EQ(d.assess(at(1772.5)), health::alive);
    EXPECT_EQ(d.assess(at(1772.6)), health::suspect);
    EXPECT_EQ(d.assess(at(2402.99)), health::suspect);
    EXPECT_EQ(d.assess(at(2403.01)), health::dead);
}

TEST(PhiAccrualDetector, PhiMatchesHandComputedNormalTail) {
    phi_accrual_detector d = mean_1000_sd_100();
    ASSERT_DOUBLE_EQ(d.mean_ms(), 1000.0);
    ASSERT_DOUBLE_EQ(d.std_dev_ms(), 100.0);
    EXPECT_NEAR(d.phi(at(2000 + 1000)), phi_z0, tol);
    EXPECT_NEAR(d.phi(at(2000 + 1100)), phi_z1, tol);
    EXPECT_NEAR(d.phi(at(2000 + 1200)), phi_z2, tol);
    EXPECT_NEAR(d.phi(at(2000 + 1300)), phi_z3, tol);
    EXPECT_NEAR(d.phi(at(2000 + 1400)), phi_z4, tol);
    EXPECT_NEAR(d.phi(at(2000 + 1500)), phi_z5, tol);
}

TEST(PhiAccrualDetector, ThresholdsGiveSuspectAndDeadAtTheRightInstants) {
    phi_accrual_detector d = mean_1000_sd_100();
    // Suspect (phi 3) at 2000 + 1000 + 309.02323 ms; dead (phi 8) at 2000 + 1000 + 561.20012 ms.
    EXPECT_EQ(d.assess(at(3309.02)), health::alive);
    EXPECT_EQ(d.assess(at(3309.03)), health::suspect);
    EXPECT_EQ(d.assess(at(3561.19)), health::suspect);
    EXPECT_EQ(d.assess(at(3561.21)), health::dead);
    EXPECT_EQ(d.assess(at(1'000'000)), health::dead);
}

TEST(PhiAccrualDetector, NextChangeFindsTheCrossingInstants) {
    phi_accrual_detector d = mean_1000_sd_100();
    const double suspect_ms = 3000 + z_phi3 * 100;
    const double dead_ms = 3000 + z_phi8 * 100;
    const auto ms = [](time_point t) {
        return std::chrono::duration<double, std::milli>(t.time_since_epoch()).count();
    };
    EXPECT_NEAR(ms(d.next_change(at(2000))), suspect_ms, 1e-4);
    EXPECT_NEAR(ms(d.next_change(at(3000))), suspect_ms, 1e-4);
    EXPECT_NEAR(ms(d.next_change(at(3400))), dead_ms, 1e-4);
    EXPECT_EQ(d.next_change(at(3600)), time_point::max());
}

TEST(PhiAccrualDetector, NextChangeAgreesWithAssessToTheNanosecond) {
    phi_accrual_config cfg = config_with_window(50);
    cfg.acceptable_pause = milliseconds(250);
    phi_accrual_detector d(cfg, at(0));
    // An irregular history so the crossing lands at no round number.
    double t = 0;
    for (double gap : {980.0, 1013.0, 1201.0, 870.0, 1049.0, 1111.0, 990.0, 1500.0, 1003.0}) {
        t += gap;
        d.record_alive(at(t));
    }
    time_point now = at(t);
    health state = d.assess(now);
    ASSERT_EQ(state, health::alive);
    for (health expected : {health::suspect, health::dead}) {
        const time_point change = d.next_change(now);
        ASSERT_NE(change, time_point::max());
        EXPECT_GT(change, now);
        EXPECT_EQ(d.assess(change - milliseconds(1)), state);
        EXPECT_EQ(d.assess(change - nanoseconds(1)), state);
        EXPECT_EQ(d.assess(change), expected);
        EXPECT_EQ(d.assess(change + milliseconds(1)), expected);
        state = expected;
        now = change;
    }
    EXPECT_EQ(d.next_change(now), time_point::max());
}

TEST(PhiAccrualDetector, NextChangeWithCustomThresholds) {
    phi_accrual_config cfg = config_with_window(2);
    cfg.suspect_threshold = 1.0;
    cfg.dead_threshold = 2.0;
    phi_accrual_detector d = mean_1000_sd_100(cfg);
    // Q(z) = 0.1 at z = 1.2815516; Q(z) = 0.01 at z = 2.3263479.
    const time_point suspect = d.next_change(at(2000));
    EXPECT_EQ(d.assess(suspect), health::suspect);
    EXPECT_GE(suspect, at(3128.155));
    EXPECT_LE(suspect, at(3128.156));
    const time_point dead = d.next_change(suspect);
    EXPECT_EQ(d.assess(dead), health::dead);
    EXPECT_GE(dead, at(3232.634));
    EXPECT_LE(dead, at(3232.635));
}

TEST(PhiAccrualDetector, StdDevIsFlooredAtMinStdDeviation) {
    phi_accrual_detector d(config_with_window(10), at(0));
    for (int i = 1; i <= 10; ++i)
        d.record_alive(at(1000.0 * i));
    EXPECT_DOUBLE_EQ(d.mean_ms(), 1000.0);
    EXPECT_NEAR(d.std_dev_ms(), 0.0, 1e-9);
    // A perfectly regular peer still gets the 100 ms default floor: z = 200 / 100.
    EXPECT_NEAR(d.phi(at(10'000 + 1200)), phi_z2, tol);
    EXPECT_EQ(d.assess(at(10'000 + 1200)), health::alive);
}

TEST(PhiAccrualDetector, LargerMinStdDeviationIsMoreTolerant) {
    phi_accrual_config cfg = config_with_window(10);
    cfg.min_std_deviation = milliseconds(500);
    phi_accrual_detector d(cfg, at(0));
    for (int i = 1; i <= 10; ++i)
        d.record_alive(at(1000.0 * i));
    // z = 200 / 500 = 0.4: Q(0.4) = 0.344578, phi = 0.462712.
    EXPECT_NEAR(d.phi(at(10'000 + 1200)), 0.462712, tol);
}

TEST(PhiAccrualDetector, FloorDoesNotShrinkALargerSpread) {
    phi_accrual_config cfg = config_with_window(2);
    cfg.min_std_deviation = milliseconds(50);
    phi_accrual_detector d = mean_1000_sd_100(cfg);
    EXPECT_NEAR(d.phi(at(3200)), phi_z2, tol); // still sd 100
}

TEST(PhiAccrualDetector, AcceptablePauseShiftsTheMean) {
    phi_accrual_config cfg = config_with_window(2);
    cfg.acceptable_pause = milliseconds(500);
    phi_accrual_detector d = mean_1000_sd_100(cfg);
    EXPECT_DOUBLE_EQ(d.mean_ms(), 1000.0); // reported as sampled
    EXPECT_NEAR(d.phi(at(2000 + 1500)), phi_z0, tol);
    EXPECT_NEAR(d.phi(at(2000 + 1700)), phi_z2, tol);
    EXPECT_EQ(d.assess(at(2000 + 1500 + 309.02)), health::alive);
    EXPECT_EQ(d.assess(at(2000 + 1500 + 309.03)), health::suspect);
}

TEST(PhiAccrualDetector, WindowEvictsTheOldestSamples) {
    phi_accrual_detector d(config_with_window(4), at(0));
    // Seeds 750 and 1250, then 1000 and 1000.
    d.record_alive(at(1000));
    d.record_alive(at(2000));
    EXPECT_EQ(d.sample_count(), 4u);
    EXPECT_DOUBLE_EQ(d.mean_ms(), 1000.0);
    EXPECT_NEAR(d.std_dev_ms(), std::sqrt(125000.0 / 4), 1e-9);
    d.record_alive(at(4000)); // evicts 750: {1250, 1000, 1000, 2000}
    EXPECT_EQ(d.sample_count(), 4u);
    EXPECT_DOUBLE_EQ(d.mean_ms(), 1312.5);
    d.record_alive(at(6000)); // evicts 1250: {1000, 1000, 2000, 2000}
    EXPECT_DOUBLE_EQ(d.mean_ms(), 1500.0);
    EXPECT_NEAR(d.std_dev_ms(), 500.0, 1e-9);
}

TEST(PhiAccrualDetector, SlidingStatisticsDoNotDriftAfterManyEvictions) {
    phi_accrual_detector d(config_with_window(4), at(0));
    double t = 0;
    for (int i = 0; i < 100'000; ++i) {
        t += (i % 2 == 0) ? 10.0 : 100'000.0;
        d.record_alive(at(t));
    }
    for (int i = 0; i < 4; ++i) {
        t += 1000.0;
        d.record_alive(at(t));
    }
    EXPECT_NEAR(d.mean_ms(), 1000.0, 1e-6);
    EXPECT_NEAR(d.std_dev_ms(), 0.0, 1e-3);
}

TEST(PhiAccrualDetector, WindowSizeBelowTwoStillHoldsTheBootstrapPair) {
    phi_accrual_detector d(config_with_window(1), at(0));
    EXPECT_EQ(d.sample_count(), 2u);
    d.record_alive(at(1000));
    EXPECT_EQ(d.sample_count(), 2u);
    EXPECT_DOUBLE_EQ(d.mean_ms(), (1250.0 + 1000.0) / 2);
}

TEST(PhiAccrualDetector, ForgiveShiftsTheLastArrival) {
    phi_accrual_detector d = mean_1000_sd_100();
    d.forgive(milliseconds(500));
    EXPECT_EQ(d.last_arrival(), at(2500));
    EXPECT_NEAR(d.phi(at(3500)), phi_z0, tol);
    EXPECT_NEAR(d.phi(at(3700)), phi_z2, tol);
    // The stall is excluded from the next sample too: 1100 ms, not 1600.
    d.record_alive(at(3600));
    EXPECT_DOUBLE_EQ(d.mean_ms(), 1100.0); // window {1100, 1100}
}

TEST(PhiAccrualDetector, NegativeForgiveIsIgnored) {
    phi_accrual_detector d = mean_1000_sd_100();
    d.forgive(milliseconds(-500));
    EXPECT_EQ(d.last_arrival(), at(2000));
}

TEST(PhiAccrualDetector, RecordMissedChangesNothing) {
    phi_accrual_detector d = mean_1000_sd_100();
    const double before = d.phi(at(3200));
    d.record_missed(at(3100));
    d.record_missed(at(3150));
    EXPECT_EQ(d.phi(at(3200)), before);
    EXPECT_EQ(d.sample_count(), 2u);
    EXPECT_DOUBLE_EQ(d.mean_ms(), 1000.0);
}

TEST(PhiAccrualDetector, ActivityEndsTheSilenceWithoutBecomingASample) {
    phi_accrual_detector d = mean_1000_sd_100();
    d.record_activity(at(2010));
    d.record_activity(at(2020));
    EXPECT_DOUBLE_EQ(d.mean_ms(), 1000.0);
    EXPECT_DOUBLE_EQ(d.std_dev_ms(), 100.0);
    EXPECT_EQ(d.last_arrival(), at(2020));
    EXPECT_NEAR(d.phi(at(3020)), phi_z0, tol);
    // The next heartbeat's silence counts from the last activity: 1000 ms, not 1020.
    d.record_alive(at(3020));
    EXPECT_DOUBLE_EQ(d.mean_ms(), 1050.0); // window {1100, 1000}
}

TEST(PhiAccrualDetector, OutOfOrderArrivalDoesNotMoveTimeBackwards) {
    phi_accrual_detector d = mean_1000_sd_100();
    d.record_activity(at(1500));
    EXPECT_EQ(d.last_arrival(), at(2000));
    d.record_alive(at(1900)); // a zero-length silence, not a negative one
    EXPECT_EQ(d.last_arrival(), at(2000));
    EXPECT_DOUBLE_EQ(d.mean_ms(), 550.0); // window {1100, 0}
}

TEST(PhiAccrualDetector, PhiStaysFiniteAndIncreasingFarIntoTheTail) {
    phi_accrual_detector d = mean_1000_sd_100();
    // Where erfc underflows the asymptotic series takes over; reference values from the tail
    // Q(30) = 4.906714e-198 (phi 197.309209) and Q(35) = 1.124911e-268 (phi 267.948882).
    EXPECT_NEAR(d.phi(at(3000 + 3000)), 197.309209, 1e-5);
    EXPECT_NEAR(d.phi(at(3000 + 3500)), 267.948882, 1e-5);
    // One hour of silence: z ~ 35990, phi ~ z^2 / (2 ln 10) ~ 2.8127e8.
    const double hour = d.phi(at(2000 + 3'600'000));
    EXPECT_TRUE(std::isfinite(hour));
    EXPECT_NEAR(hour, 2.8127e8, 1e4);
    EXPECT_GT(d.phi(at(2000 + 3'600'001)), hour);
    EXPECT_TRUE(std::isfinite(d.phi(time_point::max())));
}

TEST(PhiAccrualDetector, PhiIsContinuousWhereTheSeriesTakesOver) {
    phi_accrual_detector d = mean_1000_sd_100();
    // erfc(y) switches to the series at y = 20, i.e. z = 20 sqrt 2 = 28.2842712.
    const double switch_ms = 3000 + 2828.42712;
    const double below = d.phi(at(switch_ms - 0.001));
    const double above = d.phi(at(switch_ms + 0.001));
    EXPECT_GT(above, below);
    // The slope there is z / ln 10 ~ 12.3 per unit of z; 2 µs is 2e-5 z, so ~2.5e-4 of phi.
    EXPECT_LT(above - below, 5e-4);
}

TEST(PhiAccrualDetector, ResetRestoresTheBootstrapPrior) {
    phi_accrual_detector d = mean_1000_sd_100(config_with_window(10));
    d.record_alive(at(2500));
    d.reset(at(10'000));
    EXPECT_EQ(d.sample_count(), 2u);
    EXPECT_DOUBLE_EQ(d.mean_ms(), 1000.0);
    EXPECT_DOUBLE_EQ(d.std_dev_ms(), 250.0);
    EXPECT_EQ(d.last_arrival(), at(10'000));
    EXPECT_NEAR(d.phi(at(11'500)), phi_z2, tol);
}

TEST(PhiAccrualDetector, UsableThroughTheInterface) {
    phi_accrual_detector concrete(phi_accrual_config{});
    failure_detector& d = concrete;
    d.reset(at(5000));
    d.record_alive(at(6000));
    EXPECT_EQ(d.assess(at(6500)), health::alive);
    EXPECT_EQ(d.assess(at(60'000)), health::dead);
    EXPECT_LT(d.next_change(at(6500)), at(60'000));
}

} // namespace
