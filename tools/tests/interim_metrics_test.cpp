// The interim /metrics renderer (to be replaced by heartbeat::metrics::render_prometheus): the
// families, labels and histogram shape the library will produce, from a status board fed with
// explicit times.
#include "interim_metrics.hpp"

#include <gtest/gtest.h>

#include <string>

namespace heartbeat::cli {
namespace {

const time_point t0{};

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos || text.rfind(line + "\n", 0) == 0;
}

TEST(InterimMetrics, WatchFamiliesFromTheEventStream) {
    status_board b(board_role::watch, t0);
    b.add_row("a:1");
    b.add_row("b:2");
    b.on_established("a:1", t0);
    b.on_rtt("a:1", microseconds(300), microseconds(300), t0 + seconds(1)); // le 0.0005
    b.on_rtt("a:1", milliseconds(3), milliseconds(1), t0 + seconds(2));     // le 0.005
    b.on_state("a:1", row_state::suspect, 1, t0 + seconds(3));
    b.on_verdict("a:1", "peer_dead", 3, t0 + seconds(4));
    b.on_history("failover", "a:1", "b:2", t0 + seconds(4));
    b.on_established("b:2", t0 + seconds(4));
    const std::string m = render_interim_prometheus(b);

    EXPECT_TRUE(has_line(m, "# TYPE heartbeat_rtt_seconds histogram")) << m;
    EXPECT_TRUE(has_line(m, R"(heartbeat_pongs_received_total{endpoint="a:1",role="watch"} 2)"));
    EXPECT_TRUE(has_line(m, R"(heartbeat_pongs_missed_total{endpoint="a:1",role="watch"} 3)"));
    EXPECT_TRUE(has_line(m, R"(heartbeat_pings_sent_total{endpoint="a:1",role="watch"} 5)"));
    EXPECT_TRUE(has_line(
        m, R"(heartbeat_verdicts_total{endpoint="a:1",role="watch",reason="peer_dead"} 1)"));
    EXPECT_TRUE(has_line(m, R"(heartbeat_failovers_total{role="watch"} 1)"));
    EXPECT_TRUE(has_line(m, R"(heartbeat_failbacks_total{role="watch"} 0)"));
    EXPECT_TRUE(has_line(m, R"(heartbeat_sessions_open{role="watch"} 1)"));
    EXPECT_TRUE(
        has_line(m, R"(heartbeat_endpoint_state{endpoint="a:1",role="watch",state="dead"} 1)"));
    EXPECT_TRUE(
        has_line(m, R"(heartbeat_endpoint_state{endpoint="a:1",role="watch",state="alive"} 0)"));
    EXPECT_TRUE(
        has_line(m, R"(heartbeat_endpoint_state{endpoint="b:2",role="watch",state="alive"} 1)"));
    // Cumulative buckets, +Inf = count, and the sum.
    EXPECT_TRUE(
        has_line(m, R"(heartbeat_rtt_seconds_bucket{endpoint="a:1",role="watch",le="0.0005"} 1)"));
    EXPECT_TRUE(
        has_line(m, R"(heartbeat_rtt_seconds_bucket{endpoint="a:1",role="watch",le="0.0025"} 1)"));
    EXPECT_TRUE(
        has_line(m, R"(heartbeat_rtt_seconds_bucket{endpoint="a:1",role="watch",le="0.005"} 2)"));
    EXPECT_TRUE(
        has_line(m, R"(heartbeat_rtt_seconds_bucket{endpoint="a:1",role="watch",le="+Inf"} 2)"));
    EXPECT_TRUE(has_line(m, R"(heartbeat_rtt_seconds_count{endpoint="a:1",role="watch"} 2)"));
    EXPECT_TRUE(has_line(m, R"(heartbeat_rtt_seconds_sum{endpoint="a:1",role="watch"} 0.0033)"));
    EXPECT_TRUE(has_line(m, R"(heartbeat_last_rtt_seconds{endpoint="a:1",role="watch"} 0.003)"));
    EXPECT_EQ(m.back(), '\n');
}

TEST(InterimMetrics, ServeRowsArePeersWithoutFailoverFamilies) {
    status_board b(board_role::serve, t0);
    b.on_established("127.0.0.1:5000", t0);
    const std::string m = render_interim_prometheus(b);
    EXPECT_TRUE(
        has_line(m, R"(heartbeat_pongs_received_total{peer="127.0.0.1:5000",role="serve"} 0)"))
        << m;
    EXPECT_EQ(m.find("heartbeat_failovers_total"), std::string::npos);
}

TEST(InterimMetrics, LabelValuesAreEscaped) {
    status_board b(board_role::watch, t0);
    b.add_row("line://h:1?ping=\"a\\b\"");
    const std::string m = render_interim_prometheus(b);
    EXPECT_NE(m.find(R"(endpoint="line://h:1?ping=\"a\\b\"")"), std::string::npos) << m;
}

} // namespace
} // namespace heartbeat::cli
