// Metrics of a real client and server over loopback: the client's series counts pings, pongs
// and round trips (as many RTT observations as rtt events), the server's per-peer series counts
// its side; the rendered text passes `promtool check metrics`. A frozen server then yields one
// peer_dead verdict with its detection time, and its answer on the next connection within the
// window makes the verdict suspicious. A first endpoint that refuses counts a failover.
#include "client_test_support.hpp"
#include "promtool_check.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/metrics/registry.hpp>
#include <heartbeat/metrics/render.hpp>
#include <heartbeat/server/server.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

using namespace heartbeat;
using namespace std::chrono_literals;
namespace ht = heartbeat::test;
namespace cs = heartbeat::test::client_support;
namespace asio = boost::asio;

namespace {

const metrics::series_snapshot* find_series(const metrics::metrics_snapshot& s,
                                            const std::string& role, const std::string& endpoint,
                                            const std::string& peer) {
    for (const auto& x : s.series)
        if (x.labels.role == role && x.labels.endpoint == endpoint && x.labels.peer == peer)
            return &x;
    return nullptr;
}

std::uint64_t verdicts_of(const metrics::series_snapshot& s, const std::string& reason) {
    for (const auto& v : s.verdicts)
        if (v.reason == reason)
            return v.count;
    return 0;
}

// Messages of the records a sink received (the client's strand is this test's thread).
struct message_log {
    std::vector<std::string> messages;
    log_sink sink() {
        return [this](const log_record& r) { messages.emplace_back(r.message); };
    }
    bool has(const std::string& m) const {
        return std::find(messages.begin(), messages.end(), m) != messages.end();
    }
};

client_config fast_client(std::shared_ptr<metrics::registry> registry) {
    client_config cfg;
    cfg.session = ht::fast_config(50ms, 50ms, 2); // budget 150 ms
    cfg.backoff.initial = 20ms;
    cfg.backoff.max = 100ms;
    cfg.connect_timeout = 1s;
    cfg.use_reconnect_budget = false;
    cfg.metrics = std::move(registry);
    return cfg;
}

TEST(MetricsClientServer, CountsPingsPongsAndRoundTripsOnBothSides) {
    auto server_metrics = metrics::registry::create();
    server_config scfg;
    scfg.session = ht::fast_config(50ms, 200ms, 3);
    scfg.metrics = server_metrics;
    cs::threaded_server server(0, scfg);
    const endpoint ep = cs::local_endpoint_for(server.port());

    auto client_metrics = metrics::registry::create();
    asio::io_context ioc;
    std::uint64_t rtt_events = 0;
    client c(ioc.get_executor(), {ep}, fast_client(client_metrics),
             [&](const client_event& e) { rtt_events += e.kind == client_event_kind::rtt; });
    c.async_run(asio::detached);

    const auto client_series = [&] {
        return find_series(client_metrics->snapshot(), "client", ep.label, "");
    };
    ASSERT_TRUE(ht::run_until(
        ioc,
        [&] {
            const auto s = client_metrics->snapshot();
            const auto* x = find_series(s, "client", ep.label, "");
            return x && x->pongs_received >= 10;
        },
        15s));

    // Nothing runs on the client while this thread reads: its numbers agree exactly.
    const auto snap = client_metrics->snapshot();
    const auto* x = find_series(snap, "client", ep.label, "");
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->labels.protocol, "native");
    EXPECT_GE(x->pings_sent, x->pongs_received);
    EXPECT_LE(x->pings_sent, x->pongs_received + 1); // at most one ping in flight
    EXPECT_EQ(x->rtt_seconds.count(), rtt_events);
    EXPECT_GE(x->rtt_seconds.count(), 10u);
    EXPECT_GT(x->rtt_seconds.sum_seconds, 0.0);
    EXPECT_LT(x->rtt_seconds.sum_seconds / x->rtt_seconds.count(), 0.2); // loopback
    ASSERT_TRUE(x->last_rtt_seconds);
    EXPECT_EQ(x->sessions_open, 1);
    EXPECT_EQ(x->state, metrics::endpoint_state::alive);
    EXPECT_EQ(x->pongs_missed, 0u);
    EXPECT_EQ(verdicts_of(*x, "peer_dead"), 0u);
    (void)client_series;

    // The server's side of the same connection: one series for the peer host.
    ASSERT_TRUE(ht::wait_until(
        [&] {
            const auto s = server_metrics->snapshot();
            const auto* y = find_series(s, "server", "", "127.0.0.1");
            return y && y->pongs_received >= 3;
        },
        10s));
    const auto server_snap = server_metrics->snapshot();
    const auto* y = find_series(server_snap, "server", "", "127.0.0.1");
    ASSERT_NE(y, nullptr);
    EXPECT_EQ(y->labels.protocol, "native");
    EXPECT_EQ(y->sessions_open, 1);
    EXPECT_EQ(y->state, metrics::endpoint_state::unknown); // servers keep no per-peer state
    EXPECT_GE(y->rtt_seconds.count(), 3u);

    const std::string text = metrics::render_prometheus(snap);
    EXPECT_NE(text.find("heartbeat_pongs_received_total{role=\"client\",protocol=\"native\","
                        "endpoint=\"" +
                        ep.label + "\"} "),
              std::string::npos)
        << text;
    EXPECT_NE(text.find("heartbeat_endpoint_state{role=\"client\",protocol=\"native\",endpoint=\"" +
                        ep.label + "\",state=\"alive\"} 1"),
              std::string::npos);
    const auto promtool = ht::promtool_path();
    if (promtool.empty())
        GTEST_SKIP() << "promtool not installed: the text was not checked by a real parser";
    for (const auto& t : {text, metrics::render_prometheus(server_snap)}) {
        const auto r = ht::promtool_check(promtool, t);
        EXPECT_TRUE(r.accepted) << r.output << "\n" << t;
    }
    // The checker rejects broken text: this check can fail.
    EXPECT_FALSE(ht::promtool_check(promtool, "heartbeat_x{a=\"1} 3\n").accepted);
}

TEST(MetricsClientServer, FrozenServerVerdictIsCountedTimedAndSuspiciousWhenItAnswersAgain) {
    server_config scfg;
    scfg.session = ht::fast_config(50ms, 200ms, 3);
    cs::threaded_server server(0, scfg);
    const endpoint ep = cs::local_endpoint_for(server.port());

    // A window of 20 budgets (3 s) keeps the reconnect after the thaw inside it on a loaded
    // machine; the window's boundary itself is unit-tested (registry_test).
    auto registry =
        metrics::registry::create(metrics::registry_options{.suspicious_window_factor = 20.0});
    client_config cfg = fast_client(registry);
    message_log client_log, session_log;
    cfg.log = client_log.sink();
    cfg.session.log = session_log.sink();
    const duration budget = silence_budget(cfg.session.heartbeat);
    asio::io_context ioc;
    client c(ioc.get_executor(), {ep}, cfg);
    c.async_run(asio::detached);

    const auto series = [&] {
        auto s = registry->snapshot();
        const auto* x = find_series(s, "client", ep.label, "");
        return x ? std::optional<metrics::series_snapshot>(*x) : std::nullopt;
    };
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return series() && series()->pongs_received >= 3; }, 15s));

    server.freeze();
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return verdicts_of(*series(), "peer_dead") >= 1; }, budget + 10s));
    const auto dead = *series();
    EXPECT_EQ(verdicts_of(dead, "peer_dead"), 1u);
    EXPECT_GE(dead.pongs_missed, 2u);
    ASSERT_EQ(dead.detection_seconds.count(), 1u);
    const double budget_s = std::chrono::duration<double>(budget).count();
    EXPECT_GE(dead.detection_seconds.sum_seconds, budget_s - 0.001);
    EXPECT_LT(dead.detection_seconds.sum_seconds, budget_s + 2.0);
    EXPECT_EQ(dead.suspicious_verdicts, 0u);

    server.thaw();
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return series()->suspicious_verdicts >= 1; }, 10s))
        << "no pong on a new connection within the window";
    const auto back = *series();
    EXPECT_EQ(back.suspicious_verdicts, 1u);
    EXPECT_GE(back.reconnects, 1u);
    EXPECT_EQ(back.state, metrics::endpoint_state::alive);
    EXPECT_EQ(back.sessions_open, 1);

    for (const char* m : {"connecting", "connected", "dead", "closed"})
        EXPECT_TRUE(client_log.has(m)) << "client log lacks " << m;
    for (const char* m : {"connected", "suspect", "dead", "closed"})
        EXPECT_TRUE(session_log.has(m)) << "session log lacks " << m;
}

TEST(MetricsClientServer, RefusedFirstEndpointCountsAFailover) {
    server_config scfg;
    scfg.session = ht::fast_config(50ms, 200ms, 3);
    cs::threaded_server server(0, scfg);
    const endpoint refused = cs::local_endpoint_for(cs::unused_port());
    const endpoint good = cs::local_endpoint_for(server.port());

    auto registry = metrics::registry::create();
    asio::io_context ioc;
    bool connected = false;
    client c(ioc.get_executor(), {refused, good}, fast_client(registry),
             [&](const client_event& e) { connected |= e.kind == client_event_kind::connected; });
    c.async_run(asio::detached);
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return connected; }, 10s));

    const auto snap = registry->snapshot();
    const auto* first = find_series(snap, "client", refused.label, "");
    const auto* second = find_series(snap, "client", good.label, "");
    ASSERT_NE(first, nullptr); // every endpoint has its series from the start
    ASSERT_NE(second, nullptr);
    EXPECT_EQ(first->failovers, 1u);
    EXPECT_EQ(first->reconnects, 0u); // the client's very first attempt
    EXPECT_EQ(second->reconnects, 1u);
    EXPECT_EQ(second->failovers, 0u);
    EXPECT_EQ(second->sessions_open, 1);
    EXPECT_EQ(first->sessions_open, 0);
}

} // namespace
