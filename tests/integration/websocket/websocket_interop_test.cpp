// WebSocket heartbeats against a real third-party RFC 6455 implementation: Node's `ws` package
// (tests/interop, installed by `npm ci`; scripts/install-deps.sh does that). The Node peers run
// as child processes, so freezing one with SIGSTOP freezes a real remote process: its kernel
// still accepts our bytes, but nothing answers.
//
//   * our client session <-> ws server (tests/interop/ws_echo_server.js)
//   * ws clients (tests/interop/ws_client.js) <-> our websocket_server
//
// Skipped (with the reason) only when `node` or tests/interop/node_modules/ws is missing, and
// never in CI (CI=true) or with HEARTBEAT_REQUIRE_INTEROP=1: there that is a failure, since
// scripts/install-deps.sh installs both.
#include "websocket_test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

using namespace heartbeat;
using namespace heartbeat::wstest;

namespace {

#define SKIP_WITHOUT_NODE()                                                                        \
    do {                                                                                           \
        if (auto why = node_unavailable()) {                                                       \
            if (interop_required())                                                                \
                FAIL() << "interop peers are required here (CI or HEARTBEAT_REQUIRE_INTEROP is "   \
                          "set) but "                                                              \
                       << *why;                                                                    \
            GTEST_SKIP() << *why;                                                                  \
        }                                                                                          \
    } while (0)

std::string node() {
    return *find_in_path("node");
}

std::string script(const char* name) {
    return (interop_dir() / name).string();
}

struct run_result {
    bool ended = false;
    boost::system::error_code reason;
    time_point at{};
};

struct client_probe {
    int rtts = 0;
    std::optional<verdict> dead;
    session_callbacks callbacks() {
        session_callbacks cb;
        cb.on_rtt = [this](duration, const rtt_estimator&) { ++rtts; };
        cb.on_verdict = [this](const verdict& v) { dead = v; };
        return cb;
    }
};

// Starts tests/interop/ws_echo_server.js and returns its port (0 on failure).
unsigned short start_node_server(child_process& p, bool echo = true) {
    std::vector<std::string> args{node(), script("ws_echo_server.js")};
    if (!echo)
        args.push_back("--no-echo");
    if (!p.start(args, false, interop_dir()))
        return 0;
    auto line = p.read_line(15s);
    return line ? static_cast<unsigned short>(std::atoi(line->c_str())) : 0;
}

bool start_node_client(child_process& p, unsigned short port) {
    if (!p.start({node(), script("ws_client.js"), "ws://127.0.0.1:" + std::to_string(port) + "/"},
                 false, interop_dir()))
        return false;
    return p.read_until([](const std::string& l) { return l == "open"; }, 15s).has_value();
}

bool starts_with(const std::string& s, const std::string& prefix) {
    return s.rfind(prefix, 0) == 0;
}

} // namespace

TEST(WebSocketInterop, OurClientAgainstNodeWsServerMeasuresRttAndDetectsAFreeze) {
    SKIP_WITHOUT_NODE();
    child_process server;
    const unsigned short port = start_node_server(server);
    ASSERT_NE(port, 0) << "ws_echo_server.js did not start";

    asio::io_context ioc;
    client_probe probe;
    const auto cfg = fast_ws_config(200ms, 200ms, 3);
    const duration budget = silence_budget(cfg.heartbeat);
    ws_session client(ws_connect(ioc.get_executor(), port), cfg, probe.callbacks());
    run_result run;
    client.async_run([&](boost::system::error_code ec) { run = {true, ec, clock::now()}; });
    ASSERT_TRUE(server.read_until([](const std::string& l) { return l == "open 1"; }, 5s));

    // Echo through ws: text stays text, binary stays binary, large messages arrive whole.
    std::string failure;
    bool echoed = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (auto kind : {websocket_message_kind::text, websocket_message_kind::binary})
                for (std::size_t n :
                     {std::size_t{1}, std::size_t{125}, std::size_t{126}, std::size_t{65536},
                      std::size_t{1} << 20, std::size_t{8} << 20}) {
                    std::string payload(n, kind == websocket_message_kind::text ? 'a' : '\xfe');
                    payload[0] = 'x';
                    co_await client.async_send(payload, kind, asio::use_awaitable);
                    auto m = co_await client.async_receive(asio::use_awaitable);
                    if (m.payload != payload || m.kind != kind)
                        failure = "echo of " + std::to_string(n) + " bytes differs";
                }
            echoed = true;
        },
        [&](std::exception_ptr ep) {
            if (ep)
                failure = "exception";
            echoed = true;
        });
    ASSERT_TRUE(run_until(
        ioc, [&] { return echoed; }, 60s));
    EXPECT_EQ(failure, "");

    ASSERT_TRUE(run_until(
        ioc, [&] { return probe.rtts >= 3; }, 5s))
        << "ws answers our pings: rtt samples " << probe.rtts;
    const auto st = client.stats();
    std::printf("[ws-interop] node ws server: rtt_samples=%llu srtt_us=%.1f min_us=%.1f "
                "max_us=%.1f\n",
                static_cast<unsigned long long>(st.rtt.samples), ms(st.rtt.srtt) * 1000,
                ms(st.rtt.min) * 1000, ms(st.rtt.max) * 1000);

    ASSERT_TRUE(server.freeze());
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.ended; }, budget + 5s));
    server.thaw();
    EXPECT_EQ(run.reason, error::peer_dead) << run.reason.message();
    ASSERT_TRUE(probe.dead.has_value());
    expect_in_window(*probe.dead, budget, "node ws server frozen (SIGSTOP)");
    EXPECT_LT(run.at - probe.dead->at, 500ms) << "no wait for a close reply from a dead peer";
    // Thawed, ws reads the close frame we sent with the verdict.
    auto closed =
        server.read_until([](const std::string& l) { return starts_with(l, "close 1 "); }, 10s);
    ASSERT_TRUE(closed.has_value());
    EXPECT_EQ(*closed, "close 1 1011 peer_dead");
    server.kill_and_reap();
}

TEST(WebSocketInterop, OurClientClosesNormallyWithNodeWsServer) {
    SKIP_WITHOUT_NODE();
    child_process server;
    const unsigned short port = start_node_server(server);
    ASSERT_NE(port, 0);
    asio::io_context ioc;
    ws_session client(ws_connect(ioc.get_executor(), port), fast_ws_config(100ms, 500ms, 3));
    run_result run;
    client.async_run([&](boost::system::error_code ec) { run = {true, ec, clock::now()}; });
    client.async_send_text("bye", asio::detached);
    client.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.ended; }, 5s));
    EXPECT_EQ(run.reason, error::session_closed) << run.reason.message();
    auto closed =
        server.read_until([](const std::string& l) { return starts_with(l, "close 1 "); }, 5s);
    ASSERT_TRUE(closed.has_value());
    EXPECT_EQ(*closed, "close 1 1000 ");
}

// The application-level heartbeat works with any application that echoes: ws_echo_server.js
// echoes {"hb":"ping",...} like any other text message.
TEST(WebSocketInterop, ApplicationHeartbeatThroughANodeEcho) {
    SKIP_WITHOUT_NODE();
    child_process server;
    const unsigned short port = start_node_server(server);
    ASSERT_NE(port, 0);
    asio::io_context ioc;
    client_probe probe;
    auto cfg = fast_ws_config(100ms, 200ms, 2);
    cfg.app_heartbeat.enabled = true;
    cfg.heartbeat.liveness = liveness_mode::pong_only;
    const duration budget = silence_budget(cfg.heartbeat);
    ws_session client(ws_connect(ioc.get_executor(), port), cfg, probe.callbacks());
    run_result run;
    client.async_run([&](boost::system::error_code ec) { run = {true, ec, clock::now()}; });
    int delivered = 0;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (;;) {
                auto [ec, m] = co_await client.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
                ++delivered;
            }
        },
        asio::detached);
    ASSERT_TRUE(run_until(
        ioc, [&] { return probe.rtts >= 5; }, 5s))
        << probe.rtts;
    EXPECT_EQ(delivered, 0) << "echoed heartbeats are consumed by the session";
    ASSERT_TRUE(server.freeze());
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.ended; }, budget + 5s));
    server.thaw();
    ASSERT_TRUE(probe.dead.has_value());
    expect_in_window(*probe.dead, budget, "node echo frozen, app heartbeat");
}

TEST(WebSocketInterop, NodeWsClientsAgainstOurServer) {
    SKIP_WITHOUT_NODE();
    verdict_log log; // outlives the server thread
    io_thread server_io;
    websocket_server_config scfg;
    scfg.session = fast_ws_config(100ms, 100ms, 2);
    const duration budget = silence_budget(scfg.session.heartbeat);
    websocket_server server(server_io.context(), loopback(), scfg, log.callbacks());
    server.async_run(asio::detached);
    const auto port = server.local_endpoint().port();

    child_process node1, node2;
    ASSERT_TRUE(start_node_client(node1, port)) << "ws_client.js #1 did not connect";
    ASSERT_TRUE(wait_until([&] { return log.connected_count() == 1; }, 5s));
    ASSERT_TRUE(start_node_client(node2, port)) << "ws_client.js #2 did not connect";
    ASSERT_TRUE(wait_until([&] { return log.connected_count() == 2; }, 5s));
    // The in-process client runs on its own thread: this one blocks reading the node clients.
    io_thread client_io;
    ws_session inproc(ws_connect(client_io.context().get_executor(), port),
                      fast_ws_config(1s, 1s, 3));
    std::atomic<bool> inproc_ended{false};
    boost::system::error_code inproc_reason;
    inproc.async_run([&](boost::system::error_code ec) {
        inproc_reason = ec;
        inproc_ended = true;
    });
    ASSERT_TRUE(wait_until([&] { return log.connected_count() == 3; }, 5s));

    // Our pings reach the ws clients (they print each one, with its 16-byte payload) and ws
    // answers them by itself: RTT samples on the server side for every peer.
    for (auto* n : {&node1, &node2}) {
        std::string seen;
        auto third = n->read_until(
            [&](const std::string& l) {
                seen += l + "; ";
                return starts_with(l, "ping 3 ");
            },
            5s);
        ASSERT_TRUE(third.has_value())
            << "node client " << (n == &node1 ? 1 : 2) << " printed: " << seen
            << " rtt samples: " << log.rtt_count(n == &node1 ? 1 : 2)
            << " closed: " << (log.closed_reason(n == &node1 ? 1 : 2) ? "yes" : "no");
        EXPECT_EQ(*third, "ping 3 16");
    }
    ASSERT_TRUE(wait_until(
        [&] { return log.rtt_count(1) >= 3 && log.rtt_count(2) >= 3 && log.rtt_count(3) >= 3; },
        5s));
    for (std::uint64_t id : {1, 2}) {
        const auto st = server.peer_stats(id);
        ASSERT_TRUE(st.has_value());
        std::printf("[ws-interop] node ws client #%llu: rtt_samples=%llu srtt_us=%.1f\n",
                    static_cast<unsigned long long>(id),
                    static_cast<unsigned long long>(st->rtt.samples), ms(st->rtt.srtt) * 1000);
    }

    ASSERT_TRUE(node1.freeze());
    ASSERT_TRUE(wait_until([&] { return log.verdict_of(1).has_value(); }, budget + 5s));
    const int rtt2 = log.rtt_count(2), rtt3 = log.rtt_count(3);
    wait_until([&] { return log.rtt_count(2) >= rtt2 + 3 && log.rtt_count(3) >= rtt3 + 3; }, 3s);
    expect_in_window(*log.verdict_of(1), budget, "node ws client frozen (SIGSTOP), server side");
    EXPECT_FALSE(log.verdict_of(2).has_value());
    EXPECT_FALSE(log.verdict_of(3).has_value());
    EXPECT_GE(log.rtt_count(2), rtt2 + 3) << "the other node client is unaffected";
    EXPECT_GE(log.rtt_count(3), rtt3 + 3) << "the in-process client is unaffected";
    EXPECT_TRUE(node2.read_until([](const std::string& l) { return starts_with(l, "ping "); }, 2s))
        << "node client #2 still receives pings";
    EXPECT_FALSE(inproc_ended.load());
    ASSERT_TRUE(wait_until([&] { return log.closed_reason(1).has_value(); }, 5s));
    EXPECT_EQ(*log.closed_reason(1), error::peer_dead);

    // Thawed, the frozen client reads the close frame the verdict sent.
    node1.thaw();
    auto closed =
        node1.read_until([](const std::string& l) { return starts_with(l, "close "); }, 10s);
    ASSERT_TRUE(closed.has_value());
    EXPECT_EQ(*closed, "close 1011 peer_dead");

    // A normal close from our server reaches ws as 1000.
    server.close();
    auto closed2 =
        node2.read_until([](const std::string& l) { return starts_with(l, "close "); }, 10s);
    ASSERT_TRUE(closed2.has_value());
    EXPECT_EQ(*closed2, "close 1000 ");
    ASSERT_TRUE(wait_until([&] { return inproc_ended.load(); }, 5s));
    EXPECT_EQ(inproc_reason, error::peer_closed);
    node1.kill_and_reap();
    node2.kill_and_reap();
}
