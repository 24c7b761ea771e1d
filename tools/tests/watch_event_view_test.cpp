#include "watch_event_view.hpp"

#include <heartbeat/core/error.hpp>

#include <boost/asio/error.hpp>
#include <gtest/gtest.h>

using namespace heartbeat;
using namespace heartbeat::cli;
using namespace std::chrono_literals;

namespace {

client_event ev(client_event_kind kind, std::string endpoint = "a:1") {
    client_event e;
    e.kind = kind;
    e.endpoint = std::move(endpoint);
    return e;
}

// The JSON line for `e`, or "-" when the view shows nothing.
std::string json(watch_event_view& v, const client_event& e) {
    const auto line = v.translate(e);
    return line ? to_json(*line, 0) : "-";
}

} // namespace

TEST(WatchEventView, ConnectedMeansTheHandshakeCompleted) {
    watch_event_view v(output_format::json);
    auto connecting = ev(client_event_kind::connecting);
    connecting.attempt = 1;
    EXPECT_EQ(json(v, connecting), "-");                       // JSON leaves attempts out
    EXPECT_EQ(json(v, ev(client_event_kind::connected)), "-"); // TCP only
    EXPECT_EQ(json(v, ev(client_event_kind::alive)),
              R"({"t_ms":0,"event":"connected","endpoint":"a:1"})");
}

TEST(WatchEventView, AliveOnlyAfterSuspect) {
    watch_event_view v(output_format::json);
    json(v, ev(client_event_kind::connected));
    json(v, ev(client_event_kind::alive));
    EXPECT_EQ(json(v, ev(client_event_kind::alive)), "-");
    auto suspect = ev(client_event_kind::suspect);
    suspect.missed = 1;
    EXPECT_EQ(json(v, suspect), R"({"t_ms":0,"event":"suspect","endpoint":"a:1","missed":1})");
    EXPECT_EQ(json(v, ev(client_event_kind::alive)),
              R"({"t_ms":0,"event":"alive","endpoint":"a:1"})");
}

TEST(WatchEventView, SessionEventsKeepTheirSchema) {
    watch_event_view v(output_format::json);
    auto rtt = ev(client_event_kind::rtt);
    rtt.rtt = 184us;
    rtt.srtt = 201us;
    EXPECT_EQ(json(v, rtt),
              R"({"t_ms":0,"event":"rtt","endpoint":"a:1","rtt_us":184,"srtt_us":201})");
    auto dead = ev(client_event_kind::dead);
    verdict d;
    d.reason = error::peer_dead;
    d.missed = 3;
    d.silence = 805ms;
    dead.dead = d;
    dead.missed = 3;
    dead.reason = error::peer_dead;
    EXPECT_EQ(json(v, dead), R"({"t_ms":0,"event":"dead","endpoint":"a:1","reason":"peer_dead",)"
                             R"("missed":3,"silent_ms":805})");
    auto closed = ev(client_event_kind::closed);
    closed.reason = boost::asio::error::connection_refused;
    EXPECT_EQ(json(v, closed),
              R"({"t_ms":0,"event":"closed","endpoint":"a:1","reason":"connection_refused"})");
}

TEST(WatchEventView, SupervisorEvents) {
    watch_event_view v(output_format::json);
    auto reconnecting = ev(client_event_kind::reconnecting, "");
    reconnecting.attempt = 4;
    reconnecting.delay = 37ms + 900us;
    EXPECT_EQ(json(v, reconnecting),
              R"({"t_ms":0,"event":"reconnecting","attempt":4,"delay_ms":37})");
    auto failover = ev(client_event_kind::failover, "");
    failover.from = "a:1";
    failover.to = "b:2";
    EXPECT_EQ(json(v, failover), R"({"t_ms":0,"event":"failover","from":"a:1","to":"b:2"})");
    auto failback = ev(client_event_kind::failback, "");
    failback.from = "b:2";
    failback.to = "a:1";
    EXPECT_EQ(json(v, failback), R"({"t_ms":0,"event":"failback","from":"b:2","to":"a:1"})");
    auto gave_up = ev(client_event_kind::gave_up, "");
    gave_up.reason = error::all_endpoints_failed;
    EXPECT_EQ(json(v, gave_up), R"({"t_ms":0,"event":"gave_up","reason":"all_endpoints_failed"})");
}

TEST(WatchEventView, ASessionEndingBeforeItsHandshakeShowsOnlyClosed) {
    watch_event_view v(output_format::json);
    json(v, ev(client_event_kind::connected, "a:1"));
    auto closed = ev(client_event_kind::closed, "a:1");
    closed.reason = error::handshake_timeout;
    EXPECT_EQ(json(v, closed),
              R"({"t_ms":0,"event":"closed","endpoint":"a:1","reason":"handshake_timeout"})");
    // The next session's handshake is reported for its own endpoint.
    json(v, ev(client_event_kind::connected, "b:2"));
    EXPECT_EQ(json(v, ev(client_event_kind::alive, "b:2")),
              R"({"t_ms":0,"event":"connected","endpoint":"b:2"})");
}

TEST(WatchEventView, TextViewShowsAttemptsAndStatus) {
    watch_event_view v(output_format::text);
    auto connecting = ev(client_event_kind::connecting);
    connecting.attempt = 2;
    const auto attempt = v.translate(connecting);
    ASSERT_TRUE(attempt);
    EXPECT_EQ(to_text(*attempt, 1500),
              "       1.500s  a:1                    connecting    attempt 2");
    v.translate(ev(client_event_kind::connected));
    const auto connected = v.translate(ev(client_event_kind::alive));
    ASSERT_TRUE(connected);
    EXPECT_EQ(connected->summary(), "alive    rtt -  srtt -  missed 0");
    auto failover = ev(client_event_kind::failover, "");
    failover.from = "a:1";
    failover.to = "b:2";
    const auto line = v.translate(failover);
    ASSERT_TRUE(line);
    EXPECT_EQ(to_text(*line, 0), "       0.000s  a:1                    failover      -> b:2");
}

TEST(WatchEventView, ClosedWithoutAStableNameCarriesTheCauseAsDetail) {
    watch_event_view v(output_format::json);
    auto closed = ev(client_event_kind::closed, "wss://h/");
    closed.reason = boost::system::error_code(EACCES, boost::system::system_category());
    EXPECT_EQ(json(v, closed), R"({"t_ms":0,"event":"closed","endpoint":"wss://h/",)"
                               R"("reason":"system_error","detail":")" +
                                   closed.reason.message() + R"("})");
    watch_event_view text(output_format::text);
    const auto line = text.translate(closed);
    ASSERT_TRUE(line);
    EXPECT_NE(line->summary().find(closed.reason.message()), std::string::npos);
}
