#include <heartbeat/metrics/render.hpp>

#include <gtest/gtest.h>

#include <string>

namespace {

using namespace heartbeat::metrics;

histogram_snapshot two_buckets(std::uint64_t a, std::uint64_t b, std::uint64_t inf, double sum) {
    histogram_snapshot h;
    h.upper_bounds = {0.001, 0.5};
    h.bucket_counts = {a, b, inf};
    h.sum_seconds = sum;
    return h;
}

// One client series, small histograms: the whole text, byte for byte.
metrics_snapshot small_snapshot() {
    series_snapshot s;
    s.labels = {"client", "native", "tcp://h:1", ""};
    s.pings_sent = 5;
    s.pongs_received = 4;
    s.pongs_missed = 1;
    s.verdicts = {{"peer_dead", 1}, {"handshake_timeout", 0}};
    s.reconnects = 2;
    s.failovers = 1;
    s.failbacks = 0;
    s.suspicious_verdicts = 1;
    s.sessions_open = 1;
    s.state = endpoint_state::alive;
    s.last_rtt_seconds = 0.00025;
    s.rtt_seconds = two_buckets(3, 1, 0, 0.0021);
    s.detection_seconds = two_buckets(0, 0, 1, 2.5);
    return {{s}};
}

TEST(RenderPrometheus, SmallSnapshotExactText) {
    const std::string L = R"({role="client",protocol="native",endpoint="tcp://h:1")";
    const std::string expected =
        "# HELP heartbeat_pings_sent_total Heartbeat pings sent.\n"
        "# TYPE heartbeat_pings_sent_total counter\n"
        "heartbeat_pings_sent_total" +
        L +
        "} 5\n"
        "# HELP heartbeat_pongs_received_total Pongs received in answer to our pings.\n"
        "# TYPE heartbeat_pongs_received_total counter\n"
        "heartbeat_pongs_received_total" +
        L +
        "} 4\n"
        "# HELP heartbeat_pongs_missed_total Pings whose pong did not come within the pong "
        "timeout.\n"
        "# TYPE heartbeat_pongs_missed_total counter\n"
        "heartbeat_pongs_missed_total" +
        L +
        "} 1\n"
        "# HELP heartbeat_verdicts_total Sessions ended by the heartbeat, by reason.\n"
        "# TYPE heartbeat_verdicts_total counter\n"
        "heartbeat_verdicts_total" +
        L +
        ",reason=\"peer_dead\"} 1\n"
        "heartbeat_verdicts_total" +
        L +
        ",reason=\"handshake_timeout\"} 0\n"
        "# HELP heartbeat_reconnects_total Connection attempts after the first one.\n"
        "# TYPE heartbeat_reconnects_total counter\n"
        "heartbeat_reconnects_total" +
        L +
        "} 2\n"
        "# HELP heartbeat_failovers_total Switches away from this endpoint to another one after "
        "it failed.\n"
        "# TYPE heartbeat_failovers_total counter\n"
        "heartbeat_failovers_total" +
        L +
        "} 1\n"
        "# HELP heartbeat_failbacks_total Switches back to this more preferred endpoint once it "
        "was healthy again.\n"
        "# TYPE heartbeat_failbacks_total counter\n"
        "heartbeat_failbacks_total" +
        L +
        "} 0\n"
        "# HELP heartbeat_suspicious_verdicts_total Dead verdicts whose peer answered again on "
        "the same series within the window.\n"
        "# TYPE heartbeat_suspicious_verdicts_total counter\n"
        "heartbeat_suspicious_verdicts_total" +
        L +
        "} 1\n"
        "# HELP heartbeat_sessions_open Sessions past their handshake and not yet ended.\n"
        "# TYPE heartbeat_sessions_open gauge\n"
        "heartbeat_sessions_open" +
        L +
        "} 1\n"
        "# HELP heartbeat_endpoint_state 1 for the current state of the endpoint, 0 for the "
        "others.\n"
        "# TYPE heartbeat_endpoint_state gauge\n"
        "heartbeat_endpoint_state" +
        L +
        ",state=\"connecting\"} 0\n"
        "heartbeat_endpoint_state" +
        L +
        ",state=\"alive\"} 1\n"
        "heartbeat_endpoint_state" +
        L +
        ",state=\"suspect\"} 0\n"
        "heartbeat_endpoint_state" +
        L +
        ",state=\"dead\"} 0\n"
        "heartbeat_endpoint_state" +
        L +
        ",state=\"closed\"} 0\n"
        "# HELP heartbeat_last_rtt_seconds The last round trip a pong measured.\n"
        "# TYPE heartbeat_last_rtt_seconds gauge\n"
        "heartbeat_last_rtt_seconds" +
        L +
        "} 0.00025\n"
        "# HELP heartbeat_rtt_seconds Round trips measured by pongs.\n"
        "# TYPE heartbeat_rtt_seconds histogram\n"
        "heartbeat_rtt_seconds_bucket" +
        L +
        ",le=\"0.001\"} 3\n"
        "heartbeat_rtt_seconds_bucket" +
        L +
        ",le=\"0.5\"} 4\n"
        "heartbeat_rtt_seconds_bucket" +
        L +
        ",le=\"+Inf\"} 4\n"
        "heartbeat_rtt_seconds_sum" +
        L +
        "} 0.0021\n"
        "heartbeat_rtt_seconds_count" +
        L +
        "} 4\n"
        "# HELP heartbeat_detection_seconds Time from the last proof of life to the dead "
        "verdict.\n"
        "# TYPE heartbeat_detection_seconds histogram\n"
        "heartbeat_detection_seconds_bucket" +
        L +
        ",le=\"0.001\"} 0\n"
        "heartbeat_detection_seconds_bucket" +
        L +
        ",le=\"0.5\"} 0\n"
        "heartbeat_detection_seconds_bucket" +
        L +
        ",le=\"+Inf\"} 1\n"
        "heartbeat_detection_seconds_sum" +
        L +
        "} 2.5\n"
        "heartbeat_detection_seconds_count" +
        L + "} 1\n";
    EXPECT_EQ(render_prometheus(small_snapshot()), expected);
}

TEST(RenderPrometheus, LabelValuesAreEscaped) {
    series_snapshot s;
    s.labels = {"server", "ws", "", "a\"b\\c\nd"};
    const auto text = render_prometheus({{s}});
    EXPECT_NE(
        text.find(R"(heartbeat_pings_sent_total{role="server",protocol="ws",peer="a\"b\\c\nd"} 0)"),
        std::string::npos)
        << text;
    EXPECT_EQ(text.find("c\nd"), std::string::npos); // no raw newline inside a label
}

TEST(RenderPrometheus, StateAndLastRttAppearOnlyOnceKnown) {
    series_snapshot s;
    s.labels = {"server", "native", "", "10.0.0.1"};
    const auto text = render_prometheus({{s}});
    EXPECT_EQ(text.find("heartbeat_endpoint_state{"), std::string::npos);
    EXPECT_EQ(text.find("heartbeat_last_rtt_seconds{"), std::string::npos);
    EXPECT_NE(text.find("# TYPE heartbeat_endpoint_state gauge"), std::string::npos);
}

TEST(RenderJson, SmallSnapshotExactText) {
    const std::string expected =
        R"({"series":[{"labels":{"role":"client","protocol":"native","endpoint":"tcp://h:1",)"
        R"("peer":""},"pings_sent":5,"pongs_received":4,"pongs_missed":1,)"
        R"("verdicts":{"peer_dead":1,"handshake_timeout":0},"reconnects":2,"failovers":1,)"
        R"("failbacks":0,"suspicious_verdicts":1,"sessions_open":1,"state":"alive",)"
        R"("last_rtt_seconds":0.00025,)"
        R"("rtt_seconds":{"buckets":[[0.001,3],[0.5,4],["+Inf",4]],"sum":0.0021,"count":4},)"
        R"("detection_seconds":{"buckets":[[0.001,0],[0.5,0],["+Inf",1]],"sum":2.5,"count":1}}]})";
    EXPECT_EQ(render_json(small_snapshot()), expected);
}

TEST(RenderJson, StringsAreEscapedAndUnknownsAreNull) {
    series_snapshot s;
    s.labels = {"client", "native", "a\"b\\c\n\x01", ""};
    const auto text = render_json({{s}});
    EXPECT_NE(text.find(R"("endpoint":"a\"b\\c\n\u0001")"), std::string::npos) << text;
    EXPECT_NE(text.find(R"("state":null)"), std::string::npos);
    EXPECT_NE(text.find(R"("last_rtt_seconds":null)"), std::string::npos);
}

TEST(RenderJson, EmptySnapshot) {
    EXPECT_EQ(render_json({}), R"({"series":[]})");
}

} // namespace
