#include <heartbeat/metrics/registry.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace heartbeat;
using namespace heartbeat::metrics;

series_labels client_of(std::string endpoint) {
    return {"client", "native", std::move(endpoint), ""};
}

series_labels server_peer(std::string peer) {
    return {"server", "native", "", std::move(peer)};
}

const series_snapshot* find(const metrics_snapshot& s, const series_labels& l) {
    for (const auto& x : s.series)
        if (x.labels == l)
            return &x;
    return nullptr;
}

TEST(MetricsRegistry, ResolveReturnsTheSameSeriesForTheSameLabels) {
    registry r;
    auto& a = r.resolve(client_of("tcp://a:1"));
    auto& again = r.resolve(client_of("tcp://a:1"));
    auto& b = r.resolve(client_of("tcp://b:1"));
    EXPECT_EQ(&a, &again);
    EXPECT_NE(&a, &b);
    EXPECT_EQ(r.series_count(), 2u);
}

TEST(MetricsRegistry, SnapshotHoldsWhatWasReported) {
    registry r;
    auto& s = r.resolve(client_of("tcp://a:1"));
    s.add_pings_sent(3);
    s.add_pongs_received(2);
    s.add_pongs_missed(1);
    s.observe_rtt(milliseconds(3));
    s.count_verdict("peer_dead");
    s.count_verdict("session_closed"); // not a verdict: not counted
    s.add_reconnects(4);
    s.add_failovers(1);
    s.add_failbacks(1);
    s.session_opened();
    s.set_state(endpoint_state::suspect);

    const auto snap = r.snapshot();
    const auto* x = find(snap, client_of("tcp://a:1"));
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->pings_sent, 3u);
    EXPECT_EQ(x->pongs_received, 2u);
    EXPECT_EQ(x->pongs_missed, 1u);
    ASSERT_EQ(x->verdicts.size(), verdict_reason_count);
    EXPECT_EQ(x->verdicts[0].reason, "peer_dead");
    EXPECT_EQ(x->verdicts[0].count, 1u);
    std::uint64_t total = 0;
    for (const auto& v : x->verdicts)
        total += v.count;
    EXPECT_EQ(total, 1u);
    EXPECT_EQ(x->reconnects, 4u);
    EXPECT_EQ(x->failovers, 1u);
    EXPECT_EQ(x->failbacks, 1u);
    EXPECT_EQ(x->sessions_open, 1);
    EXPECT_EQ(x->state, endpoint_state::suspect);
    ASSERT_TRUE(x->last_rtt_seconds);
    EXPECT_DOUBLE_EQ(*x->last_rtt_seconds, 0.003);
    EXPECT_EQ(x->rtt_seconds.count(), 1u);
    EXPECT_DOUBLE_EQ(x->rtt_seconds.sum_seconds, 0.003);
}

TEST(MetricsRegistry, HistogramBucketsAreInclusiveUpperBounds) {
    registry r;
    auto& s = r.resolve(client_of("e"));
    s.observe_rtt(microseconds(100)); // exactly on the first bound: le="0.0001"
    s.observe_rtt(microseconds(101)); // just above: the next bucket
    s.observe_rtt(seconds(11));       // above the last bound: +Inf
    const auto snap = r.snapshot();
    const auto& h = snap.series.at(0).rtt_seconds;
    ASSERT_EQ(h.bucket_counts.size(), h.upper_bounds.size() + 1);
    EXPECT_EQ(h.bucket_counts[0], 1u);
    EXPECT_EQ(h.bucket_counts[1], 1u);
    EXPECT_EQ(h.bucket_counts.back(), 1u);
    EXPECT_EQ(h.count(), 3u);
}

TEST(MetricsRegistry, PeersBeyondTheCapAggregateIntoOther) {
    registry r(registry_options{.max_peer_series = 3});
    for (int i = 0; i < 3; ++i)
        r.resolve(server_peer("10.0.0." + std::to_string(i))).add_pings_sent(1);
    for (int i = 3; i < 50; ++i)
        r.resolve(server_peer("10.0.0." + std::to_string(i))).add_pings_sent(1);
    // A peer already known keeps its own series after the cap is reached.
    r.resolve(server_peer("10.0.0.1")).add_pings_sent(1);

    EXPECT_EQ(r.series_count(), 4u); // three peers and _other
    const auto snap = r.snapshot();
    const auto* other = find(snap, server_peer(other_peers));
    ASSERT_NE(other, nullptr);
    EXPECT_EQ(other->pings_sent, 47u);
    const auto* known = find(snap, server_peer("10.0.0.1"));
    ASSERT_NE(known, nullptr);
    EXPECT_EQ(known->pings_sent, 2u);
}

TEST(MetricsRegistry, SeriesWithoutAPeerAreNotCapped) {
    registry r(registry_options{.max_peer_series = 1});
    for (int i = 0; i < 10; ++i)
        r.resolve(client_of("tcp://host" + std::to_string(i) + ":1"));
    EXPECT_EQ(r.series_count(), 10u);
}

TEST(MetricsRegistry, AnswerWithinTheWindowAfterAVerdictIsSuspiciousOnce) {
    registry r;
    auto& s = r.resolve(client_of("e"));
    const time_point t0{seconds(1000)};
    s.observe_detection(seconds(3), t0, seconds(6));
    s.first_pong(t0 + seconds(5));
    s.first_pong(t0 + seconds(5)); // the same verdict is not counted twice
    EXPECT_EQ(s.suspicious_verdicts(), 1u);
    EXPECT_EQ(r.snapshot().series.at(0).detection_seconds.count(), 1u);
}

TEST(MetricsRegistry, AnswerAfterTheWindowIsNotSuspicious) {
    registry r;
    auto& s = r.resolve(client_of("e"));
    const time_point t0{seconds(1000)};
    s.first_pong(t0); // no verdict yet
    s.observe_detection(seconds(3), t0, seconds(6));
    s.first_pong(t0 + seconds(7));
    EXPECT_EQ(s.suspicious_verdicts(), 0u);
}

} // namespace
