#include <heartbeat/core/rtt_estimator.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace {

using namespace heartbeat;
using std::chrono::duration_cast;
using std::chrono::hours;

double to_ms(duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

// Nanosecond truncation in the fixed-point RFC 6298 update may leave the result a few ns off the
// real-valued hand computation; anything more is a formula error.
constexpr double ns_slack_ms = 1e-5;

TEST(RttEstimator, EmptyEstimatorReportsZeros) {
    rtt_estimator rtt;
    EXPECT_EQ(rtt.samples(), 0u);
    EXPECT_EQ(rtt.last(), duration::zero());
    EXPECT_EQ(rtt.min(), duration::zero());
    EXPECT_EQ(rtt.max(), duration::zero());
    EXPECT_EQ(rtt.srtt(), duration::zero());
    EXPECT_EQ(rtt.rttvar(), duration::zero());
    EXPECT_EQ(rtt.percentile(50), duration::zero());
    EXPECT_EQ(rtt.rto(milliseconds(200)), milliseconds(200));
}

TEST(RttEstimator, FirstSampleSetsSrttAndHalfVariance) {
    rtt_estimator rtt;
    rtt.add_sample(milliseconds(100));
    EXPECT_EQ(rtt.samples(), 1u);
    EXPECT_EQ(rtt.srtt(), milliseconds(100));
    EXPECT_EQ(rtt.rttvar(), milliseconds(50));
    // srtt + 4 rttvar = 100 + 200.
    EXPECT_EQ(rtt.rto(milliseconds(200)), milliseconds(300));
}

TEST(RttEstimator, Rfc6298UpdatesOnHandComputedSequence) {
    rtt_estimator rtt;
    rtt.add_sample(milliseconds(100)); // srtt 100, rttvar 50

    rtt.add_sample(milliseconds(200));
    // rttvar = 0.75*50 + 0.25*|100-200| = 37.5 + 25 = 62.5
    // srtt   = 0.875*100 + 0.125*200   = 87.5 + 25 = 112.5
    EXPECT_EQ(rtt.rttvar(), microseconds(62500));
    EXPECT_EQ(rtt.srtt(), microseconds(112500));

    rtt.add_sample(milliseconds(50));
    // rttvar = 0.75*62.5 + 0.25*|112.5-50| = 46.875 + 15.625 = 62.5
    // srtt   = 0.875*112.5 + 0.125*50     = 98.4375 + 6.25  = 104.6875
    EXPECT_EQ(rtt.rttvar(), microseconds(62500));
    EXPECT_EQ(rtt.srtt(), nanoseconds(104'687'500));

    rtt.add_sample(milliseconds(100));
    // rttvar = 0.75*62.5 + 0.25*4.6875       = 46.875 + 1.171875 = 48.046875
    // srtt   = 0.875*104.6875 + 0.125*100    = 91.6015625 + 12.5 = 104.1015625
    EXPECT_NEAR(to_ms(rtt.rttvar()), 48.046875, ns_slack_ms);
    EXPECT_NEAR(to_ms(rtt.srtt()), 104.1015625, ns_slack_ms);
    // rto = 104.1015625 + 4 * 48.046875 = 296.2890625
    EXPECT_NEAR(to_ms(rtt.rto(milliseconds(200))), 296.2890625, ns_slack_ms);
    EXPECT_EQ(rtt.rto(milliseconds(500)), milliseconds(500));
}

TEST(RttEstimator, ConstantSamplesConvergeVarianceTowardZero) {
    rtt_estimator rtt;
    for (int i = 0; i < 100; ++i)
        rtt.add_sample(milliseconds(40));
    EXPECT_EQ(rtt.srtt(), milliseconds(40));
    // rttvar decays by 3/4 per sample from 20 ms: 20 * 0.75^99 is far below a microsecond.
    EXPECT_LT(rtt.rttvar(), microseconds(1));
    EXPECT_EQ(rtt.rto(milliseconds(200)), milliseconds(200));
}

TEST(RttEstimator, TracksLastMinMax) {
    rtt_estimator rtt;
    rtt.add_sample(milliseconds(30));
    rtt.add_sample(milliseconds(10));
    rtt.add_sample(milliseconds(70));
    rtt.add_sample(milliseconds(20));
    EXPECT_EQ(rtt.samples(), 4u);
    EXPECT_EQ(rtt.last(), milliseconds(20));
    EXPECT_EQ(rtt.min(), milliseconds(10));
    EXPECT_EQ(rtt.max(), milliseconds(70));
}

TEST(RttEstimator, NegativeSampleClampsToZero) {
    rtt_estimator rtt;
    rtt.add_sample(milliseconds(10));
    rtt.add_sample(milliseconds(-5));
    EXPECT_EQ(rtt.last(), duration::zero());
    EXPECT_EQ(rtt.min(), duration::zero());
    // err = |10 - 0| = 10: rttvar = 0.75*5 + 2.5 = 6.25, srtt = 8.75 + 0 = 8.75
    EXPECT_EQ(rtt.rttvar(), microseconds(6250));
    EXPECT_EQ(rtt.srtt(), microseconds(8750));
    EXPECT_EQ(rtt.percentile(0), duration::zero());
}

TEST(RttEstimator, RtoSaturatesInsteadOfOverflowing) {
    rtt_estimator rtt;
    rtt.add_sample(duration::max() / 2);
    EXPECT_EQ(rtt.rto(milliseconds(200)), duration::max());
}

TEST(RttEstimator, SingleSamplePercentilesAreExact) {
    rtt_estimator rtt;
    rtt.add_sample(microseconds(12345));
    EXPECT_EQ(rtt.percentile(0), microseconds(12345));
    EXPECT_EQ(rtt.percentile(50), microseconds(12345));
    EXPECT_EQ(rtt.percentile(100), microseconds(12345));
}

// The stated bound is 1/32 of the value (half a sub-bucket); 3.2% leaves room for nothing else.
void expect_within_relative(duration actual, double expected_ms, double tolerance = 0.032) {
    EXPECT_NEAR(to_ms(actual), expected_ms, expected_ms * tolerance)
        << "relative error " << std::abs(to_ms(actual) - expected_ms) / expected_ms;
}

TEST(RttEstimator, PercentilesOfUniformMillisecondsAreWithinRelativeError) {
    rtt_estimator rtt;
    for (int ms = 1; ms <= 1000; ++ms)
        rtt.add_sample(milliseconds(ms));
    // Nearest rank of 1000 samples 1..1000 ms: the p-th percentile is exactly 10*p ms.
    expect_within_relative(rtt.percentile(50), 500);
    expect_within_relative(rtt.percentile(90), 900);
    expect_within_relative(rtt.percentile(99), 990);
    expect_within_relative(rtt.percentile(1), 10);
    EXPECT_EQ(rtt.percentile(0), milliseconds(1));
    EXPECT_EQ(rtt.percentile(100), milliseconds(1000));
}

TEST(RttEstimator, PercentilesAcrossTheWholeRange) {
    // Every decade from 2 µs to 200 s must keep the relative error bound.
    for (double ms : {0.002, 0.05, 0.7, 3.3, 47.0, 512.0, 9999.0, 123456.0, 200000.0}) {
        rtt_estimator rtt;
        rtt.add_sample(duration::zero()); // makes min() != the sample so clamping cannot help
        rtt.add_sample(duration_cast<duration>(std::chrono::duration<double, std::milli>(ms)));
        rtt.add_sample(hours(1));
        SCOPED_TRACE(ms);
        expect_within_relative(rtt.percentile(50), ms);
    }
}

TEST(RttEstimator, PercentilesOfSkewedDistribution) {
    // 90 fast round trips and 10 slow ones: p50 is fast, p99 is slow.
    rtt_estimator rtt;
    for (int i = 0; i < 90; ++i)
        rtt.add_sample(microseconds(800));
    for (int i = 0; i < 10; ++i)
        rtt.add_sample(milliseconds(250));
    expect_within_relative(rtt.percentile(50), 0.8);
    expect_within_relative(rtt.percentile(90), 0.8);
    expect_within_relative(rtt.percentile(91), 250);
    expect_within_relative(rtt.percentile(99), 250);
}

TEST(RttEstimator, OutOfRangeValuesClampIntoEndBuckets) {
    rtt_estimator rtt;
    rtt.add_sample(nanoseconds(1));
    rtt.add_sample(nanoseconds(2));
    rtt.add_sample(hours(2));
    rtt.add_sample(hours(3));
    // Below 1 µs the estimate is the lowest bucket clamped by min: between the samples and 1.1 µs.
    EXPECT_LE(rtt.percentile(25), nanoseconds(1100));
    EXPECT_GE(rtt.percentile(25), nanoseconds(1));
    // Above ~1100 s everything shares the top bucket: reported near its ~1100 s middle.
    EXPECT_GT(rtt.percentile(75), seconds(1000));
    EXPECT_LT(rtt.percentile(75), seconds(1100));
    EXPECT_EQ(rtt.percentile(100), hours(3));
}

TEST(RttEstimator, OutOfRangePercentileArgumentsClamp) {
    rtt_estimator rtt;
    rtt.add_sample(milliseconds(5));
    rtt.add_sample(milliseconds(500));
    EXPECT_EQ(rtt.percentile(-10), milliseconds(5));
    EXPECT_EQ(rtt.percentile(1000), milliseconds(500));
    EXPECT_EQ(rtt.percentile(std::nan("")), milliseconds(5));
}

TEST(RttEstimator, ResetForgetsEverything) {
    rtt_estimator rtt;
    rtt.add_sample(milliseconds(300));
    rtt.add_sample(milliseconds(100));
    rtt.reset();
    EXPECT_EQ(rtt.samples(), 0u);
    EXPECT_EQ(rtt.max(), duration::zero());
    EXPECT_EQ(rtt.percentile(50), duration::zero());
    // Behaves like a fresh estimator: the next sample is a "first" sample again.
    rtt.add_sample(milliseconds(20));
    EXPECT_EQ(rtt.srtt(), milliseconds(20));
    EXPECT_EQ(rtt.rttvar(), milliseconds(10));
    EXPECT_EQ(rtt.min(), milliseconds(20));
    EXPECT_EQ(rtt.max(), milliseconds(20));
    EXPECT_EQ(rtt.percentile(99), milliseconds(20));
}

TEST(RttEstimator, SnapshotCopiesEveryStatistic) {
    rtt_estimator rtt;
    for (int ms = 1; ms <= 100; ++ms)
        rtt.add_sample(milliseconds(ms));
    const rtt_snapshot s = snapshot(rtt);
    EXPECT_EQ(s.samples, 100u);
    EXPECT_EQ(s.last, milliseconds(100));
    EXPECT_EQ(s.min, milliseconds(1));
    EXPECT_EQ(s.max, milliseconds(100));
    EXPECT_EQ(s.srtt, rtt.srtt());
    EXPECT_EQ(s.rttvar, rtt.rttvar());
    EXPECT_EQ(s.p50, rtt.percentile(50));
    EXPECT_EQ(s.p90, rtt.percentile(90));
    EXPECT_EQ(s.p99, rtt.percentile(99));
    expect_within_relative(s.p50, 50);
    expect_within_relative(s.p90, 90);
    expect_within_relative(s.p99, 99);
}

TEST(RttEstimator, PercentilesDoNotDependOnTheOrderOfSamples) {
    // The sparse buckets are inserted in sorted position: descending and interleaved arrivals
    // must give the very histogram ascending ones do.
    rtt_estimator ascending, descending, interleaved;
    for (int i = 1; i <= 2000; ++i)
        ascending.add_sample(microseconds(i * 37));
    for (int i = 2000; i >= 1; --i)
        descending.add_sample(microseconds(i * 37));
    for (int i = 1; i <= 1000; ++i) {
        interleaved.add_sample(microseconds(i * 37));
        interleaved.add_sample(microseconds((2001 - i) * 37));
    }
    EXPECT_EQ(ascending.buckets_in_use(), descending.buckets_in_use());
    EXPECT_EQ(ascending.buckets_in_use(), interleaved.buckets_in_use());
    for (int p = 0; p <= 100; ++p) {
        EXPECT_EQ(descending.percentile(p), ascending.percentile(p)) << "p" << p;
        EXPECT_EQ(interleaved.percentile(p), ascending.percentile(p)) << "p" << p;
    }
    expect_within_relative(ascending.percentile(50), 1000 * 0.037);
}

TEST(RttEstimator, ClusteredSamplesKeepFewBuckets) {
    // One session's round trips: 10,000 samples within one octave (100-199 µs) use at most that
    // octave's 16 sub-buckets plus the one 100 µs falls in below it.
    rtt_estimator rtt;
    for (int i = 0; i < 10000; ++i)
        rtt.add_sample(microseconds(100 + (i * 7919) % 100));
    EXPECT_LE(rtt.buckets_in_use(), 17u);
    EXPECT_GE(rtt.buckets_in_use(), 8u);
    EXPECT_LE(sizeof(rtt_estimator), 128u); // the inline part; the buckets are on the heap
}

TEST(RttEstimator, SaturatedCounterHalvesEveryBucket) {
    // 70,000 samples of 1 ms then 7,000 of 100 ms. Kept exactly, 100 ms would be 9.1% of the
    // samples and p90 would be 1 ms. The 1 ms counter saturates at 65,535 and every counter
    // halves, so old samples weigh half: 7,000 of 44,233 (15.8%) and p90 is 100 ms.
    rtt_estimator rtt;
    for (int i = 0; i < 70000; ++i)
        rtt.add_sample(milliseconds(1));
    for (int i = 0; i < 7000; ++i)
        rtt.add_sample(milliseconds(100));
    EXPECT_EQ(rtt.samples(), 77000u);
    expect_within_relative(rtt.percentile(50), 1);
    expect_within_relative(rtt.percentile(84), 1);
    expect_within_relative(rtt.percentile(90), 100);
    EXPECT_EQ(rtt.buckets_in_use(), 2u);
}

} // namespace
