// Metrics over WebSocket: a client on a ws:// endpoint and our websocket_server, both reporting,
// label their series protocol="ws" and count the same kind of facts as native sessions; the
// server's peer cap folds every peer host beyond max_peer_series into peer="_other" (here the
// cap is 0, so the one loopback host is already "other").
#include "client_test_support.hpp"
#include "websocket_test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/metrics/registry.hpp>
#include <heartbeat/metrics/render.hpp>
#include <heartbeat/server/websocket_server.hpp>

#include <gtest/gtest.h>

#include <string>

using namespace heartbeat;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace cs = heartbeat::test::client_support;
namespace wt = heartbeat::wstest;

namespace {

TEST(MetricsWebSocket, ClientAndServerSeriesAreLabelledWs) {
    wt::io_thread server_io;
    auto server_metrics =
        metrics::registry::create(metrics::registry_options{.max_peer_series = 0});
    websocket_server_config wcfg;
    wcfg.session = wt::fast_ws_config(50ms, 200ms, 3);
    wcfg.metrics = server_metrics;
    auto server = std::make_unique<websocket_server>(server_io.context(), wt::loopback(), wcfg);
    server->async_run(asio::detached);
    const auto uri = "ws://127.0.0.1:" + std::to_string(server->local_endpoint().port()) + "/";
    const auto ep = parse_endpoint(uri);
    ASSERT_TRUE(ep);

    auto client_metrics = metrics::registry::create();
    client_config cfg;
    cfg.session = heartbeat::test::fast_config(50ms, 200ms, 3);
    cfg.use_reconnect_budget = false;
    cfg.metrics = client_metrics;
    asio::io_context ioc;
    client c(ioc.get_executor(), {*ep}, cfg);
    c.async_run(asio::detached);

    const auto client_pongs = [&] {
        const auto s = client_metrics->snapshot();
        return s.series.empty() ? 0 : s.series[0].pongs_received;
    };
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return client_pongs() >= 5; }, 15s));
    const auto snap = client_metrics->snapshot();
    ASSERT_EQ(snap.series.size(), 1u);
    EXPECT_EQ(snap.series[0].labels.protocol, "ws");
    EXPECT_EQ(snap.series[0].labels.endpoint, ep->label);
    EXPECT_EQ(snap.series[0].sessions_open, 1);
    EXPECT_EQ(snap.series[0].state, metrics::endpoint_state::alive);
    EXPECT_GE(snap.series[0].rtt_seconds.count(), 5u);

    ASSERT_TRUE(wt::wait_until(
        [&] {
            const auto s = server_metrics->snapshot();
            return !s.series.empty() && s.series[0].pings_sent >= 3;
        },
        10s));
    const auto server_snap = server_metrics->snapshot();
    ASSERT_EQ(server_snap.series.size(), 1u);
    EXPECT_EQ(server_snap.series[0].labels.role, "server");
    EXPECT_EQ(server_snap.series[0].labels.protocol, "ws");
    EXPECT_EQ(server_snap.series[0].labels.peer, metrics::other_peers);
    EXPECT_EQ(server_snap.series[0].sessions_open, 1);
    EXPECT_NE(metrics::render_prometheus(server_snap)
                  .find(R"(heartbeat_sessions_open{role="server",protocol="ws",peer="_other"} 1)"),
              std::string::npos);
    server->close();
}

} // namespace
