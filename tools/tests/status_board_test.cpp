// The status board is sans-io: fed events with explicit times (no clock, no sleeps), it must
// keep the rows, the active endpoint and the history the status page and /metrics show, within
// its bounds.
#include "status_board.hpp"

#include <gtest/gtest.h>

#include <string>

namespace heartbeat::cli {
namespace {

const time_point t0{};

time_point at_ms(int ms) {
    return t0 + milliseconds(ms);
}

const board_row& find_row(const status_board& b, const std::string& name) {
    for (const auto& r : b.rows())
        if (r.name == name)
            return r;
    throw std::runtime_error("no row " + name);
}

std::size_t occurrences(const std::string& text, const std::string& what) {
    std::size_t n = 0;
    for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1))
        ++n;
    return n;
}

TEST(StatusBoard, WatchRowsFollowTheEndpointsThroughAFailover) {
    status_board b(board_role::watch, t0);
    b.add_row("a:1");
    b.add_row("b:2");
    ASSERT_EQ(b.rows().size(), 2u);
    EXPECT_EQ(b.rows()[0].name, "a:1"); // preference order kept
    EXPECT_EQ(b.rows()[1].state, row_state::idle);

    b.on_connecting("a:1", at_ms(0));
    b.on_established("a:1", at_ms(5));
    EXPECT_EQ(find_row(b, "a:1").state, row_state::alive);
    EXPECT_EQ(b.active(), "a:1");
    b.on_rtt("a:1", microseconds(150), microseconds(140), at_ms(1000));
    b.on_state("a:1", row_state::suspect, 1, at_ms(2000));
    EXPECT_EQ(find_row(b, "a:1").missed, 1u);
    b.on_verdict("a:1", "peer_dead", 3, at_ms(3000));
    b.on_closed("a:1", at_ms(3000));
    EXPECT_EQ(find_row(b, "a:1").state, row_state::dead) << "a verdict is not hidden by the close";
    EXPECT_EQ(find_row(b, "a:1").pongs_missed, 3u);
    EXPECT_EQ(find_row(b, "a:1").verdicts.at("peer_dead"), 1u);
    EXPECT_EQ(b.active(), "");
    b.on_history("failover", "a:1", "b:2", at_ms(3000));
    b.on_established("b:2", at_ms(3010));
    EXPECT_EQ(b.active(), "b:2");
    EXPECT_EQ(b.count("failover"), 1u);

    const std::string json = b.status_json(at_ms(4000));
    EXPECT_NE(json.find(R"("role":"watch","t_ms":4000,"active":"b:2")"), std::string::npos) << json;
    EXPECT_NE(json.find(R"({"name":"a:1","state":"dead","since_ms":3000)"), std::string::npos)
        << json;
    EXPECT_NE(json.find(R"({"t_ms":3000,"kind":"failover","from":"a:1","to":"b:2"})"),
              std::string::npos)
        << json;
    EXPECT_EQ(json.find("samples"), std::string::npos) << "status.json carries no samples";
}

TEST(StatusBoard, AClosedSessionWithoutAVerdictIsClosed) {
    status_board b(board_role::watch, t0);
    b.add_row("a:1");
    b.on_connecting("a:1", at_ms(0));
    b.on_closed("a:1", at_ms(10));
    EXPECT_EQ(find_row(b, "a:1").state, row_state::closed);
}

TEST(StatusBoard, StateChangesBumpTheVersionButRttSamplesDoNot) {
    status_board b(board_role::watch, t0);
    b.on_established("a:1", at_ms(0));
    const auto v = b.version();
    b.on_rtt("a:1", microseconds(100), microseconds(100), at_ms(1000));
    EXPECT_EQ(b.version(), v) << "samples go out with the 1 Hz push, not one message each";
    b.on_state("a:1", row_state::suspect, 1, at_ms(2000));
    EXPECT_GT(b.version(), v);
}

TEST(StatusBoard, TheRttRingAndTheHistoryAreBounded) {
    status_board b(board_role::watch, t0);
    for (int i = 0; i < 1000; ++i) {
        b.on_rtt("a:1", microseconds(100 + i), microseconds(100), at_ms(i * 1000));
        b.on_history("reconnecting", "", "", at_ms(i));
    }
    const board_row& r = find_row(b, "a:1");
    ASSERT_EQ(r.samples.size(), status_board::rtt_ring_capacity);
    EXPECT_EQ(r.samples.back().rtt_us, 1099);
    EXPECT_EQ(r.samples.front().rtt_us, 1099 - 299);
    EXPECT_EQ(r.pongs, 1000u) << "the counters are not bounded by the ring";
    EXPECT_EQ(b.history().size(), status_board::history_capacity);
    EXPECT_EQ(b.count("reconnecting"), 1000u);
}

TEST(StatusBoard, UpdatesCarryOnlyTheSamplesNotSentBefore) {
    status_board b(board_role::watch, t0);
    b.on_rtt("a:1", microseconds(111), microseconds(111), at_ms(1000));
    b.on_rtt("a:1", microseconds(222), microseconds(222), at_ms(2000));
    const std::string first = b.take_update_json(at_ms(2500));
    EXPECT_NE(first.find(R"("samples":[[1000,111],[2000,222]])"), std::string::npos) << first;
    b.on_rtt("a:1", microseconds(333), microseconds(333), at_ms(3000));
    const std::string second = b.take_update_json(at_ms(3500));
    EXPECT_NE(second.find(R"("samples":[[3000,333]])"), std::string::npos) << second;
    const std::string third = b.take_update_json(at_ms(4500));
    EXPECT_NE(third.find(R"("samples":[])"), std::string::npos) << third;
    // A snapshot has all of them whatever was sent.
    const std::string snapshot = b.snapshot_json(at_ms(4500));
    EXPECT_EQ(occurrences(snapshot, "],["), 2u) << snapshot;
}

TEST(StatusBoard, ServeRowsOfClosedPeersAreEvictedOldestFirstLivePeersNever) {
    status_board b(board_role::serve, t0);
    for (std::size_t i = 0; i < status_board::max_rows; ++i) {
        const std::string peer = "p:" + std::to_string(i);
        b.on_established(peer, at_ms(static_cast<int>(i)));
        if (i < 10)
            b.on_closed(peer, at_ms(100 + static_cast<int>(i)));
    }
    EXPECT_EQ(b.active(), "") << "serve has no active endpoint";
    b.on_established("new:1", at_ms(500));
    EXPECT_EQ(b.rows().size(), status_board::max_rows);
    for (const auto& r : b.rows())
        EXPECT_NE(r.name, "p:0") << "the peer closed longest ago goes first";

    status_board full(board_role::serve, t0);
    for (std::size_t i = 0; i < status_board::max_rows + 5; ++i)
        full.on_established("live:" + std::to_string(i), at_ms(0));
    EXPECT_EQ(full.rows().size(), status_board::max_rows + 5) << "a live peer is never dropped";
}

TEST(StatusBoard, NamesAreEscapedInJson) {
    status_board b(board_role::watch, t0);
    b.add_row("line://h:1?ping=\"P\"");
    const std::string json = b.status_json(t0);
    EXPECT_NE(json.find(R"("name":"line://h:1?ping=\"P\"")"), std::string::npos) << json;
}

} // namespace
} // namespace heartbeat::cli
