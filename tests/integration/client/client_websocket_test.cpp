// The client supervisor over WebSocket endpoints (ws:// and wss://), against real peers:
//   * two Node `ws` echo servers (tests/interop/ws_echo_server.js) as child processes, the
//     primary frozen with SIGSTOP: verdict, failover, messages keep being echoed by the backup;
//   * our own websocket_server as a ws:// primary, frozen and thawed, with a native backup in
//     the same failover list: failover to native, failback to ws after healthy probes; and
//     shut down and restarted on its port, with a Node ws backup;
//   * our own websocket_server over TLS as a wss:// endpoint: certificate verification (on by
//     default, against the endpoint's host), SNI, and verification switched off;
//   * a server that accepts TCP and never answers: the upgrade (and the TLS handshake under it)
//     is bounded by handshake_timeout.
// The Node tests are skipped (with the reason) only when `node` or tests/interop/node_modules/ws
// is missing, and never in CI (CI=true) or with HEARTBEAT_REQUIRE_INTEROP=1.
#include "client_test_support.hpp"
#include "websocket_test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/core/error.hpp>
#include <heartbeat/server/websocket_server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <gtest/gtest.h>

#include <openssl/ssl.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

namespace {

using namespace heartbeat;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace cs = heartbeat::test::client_support;
namespace wt = heartbeat::wstest;
using tcp = asio::ip::tcp;

#define SKIP_WITHOUT_NODE()                                                                        \
    do {                                                                                           \
        if (auto why = wt::node_unavailable()) {                                                   \
            if (wt::interop_required())                                                            \
                FAIL() << "interop peers are required here (CI or HEARTBEAT_REQUIRE_INTEROP is "   \
                          "set) but "                                                              \
                       << *why;                                                                    \
            GTEST_SKIP() << *why;                                                                  \
        }                                                                                          \
    } while (0)

double ms(duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

// Starts tests/interop/ws_echo_server.js and returns its port (0 on failure).
unsigned short start_node_server(wt::child_process& p) {
    const auto node = wt::find_in_path("node");
    if (!node || !p.start({*node, (wt::interop_dir() / "ws_echo_server.js").string()}, false,
                          wt::interop_dir()))
        return 0;
    auto line = p.read_line(15s);
    return line ? static_cast<unsigned short>(std::atoi(line->c_str())) : 0;
}

std::string ws_uri(unsigned short port, const std::string& scheme = "ws",
                   const std::string& host = "127.0.0.1") {
    return scheme + "://" + host + ":" + std::to_string(port) + "/";
}

endpoint parsed(const std::string& text) {
    std::string why;
    auto e = parse_endpoint(text, &why);
    if (!e)
        throw std::runtime_error("parse_endpoint('" + text + "'): " + why);
    return *e;
}

client_config fast_client_config() {
    client_config cfg;
    cfg.session = heartbeat::test::fast_config(200ms, 200ms, 3); // budget 800 ms
    cfg.session.handshake_timeout = 2s;
    cfg.backoff.initial = 50ms;
    cfg.backoff.max = 200ms;
    cfg.connect_timeout = 1s;
    cfg.endpoints.failback = false;
    return cfg;
}

// The first event of `kind` (for `label`, when given) at or after index `from`.
std::optional<cs::timed_event> find_event(const cs::event_log& log, client_event_kind kind,
                                          const std::string& label = {}, std::size_t from = 0) {
    const auto all = log.snapshot();
    for (std::size_t i = from; i < all.size(); ++i)
        if (all[i].event.kind == kind && (label.empty() || all[i].event.endpoint == label))
            return all[i];
    return std::nullopt;
}

std::size_t count_events(const cs::event_log& log, client_event_kind kind, const std::string& label,
                         std::size_t from = 0) {
    const auto all = log.snapshot();
    std::size_t n = 0;
    for (std::size_t i = from; i < all.size(); ++i)
        n += all[i].event.kind == kind && all[i].event.endpoint == label;
    return n;
}

// Numbered messages through client::async_send, and whatever comes back through
// client::async_receive, with the times they were accepted and received.
struct echo_traffic {
    struct entry {
        std::string payload;
        time_point at;
    };
    std::vector<entry> accepted;
    std::vector<entry> received;
    bool stop = false;
    bool sender_done = false;
    bool receiver_done = false;

    void start(asio::io_context& ioc, client& c, duration pace) {
        asio::co_spawn(
            ioc,
            [this, &c, pace]() -> asio::awaitable<void> {
                asio::steady_timer timer(co_await asio::this_coro::executor);
                for (int i = 1; !stop; ++i) {
                    std::string payload = "message " + std::to_string(i);
                    auto [ec, seq] =
                        co_await c.async_send(payload, asio::as_tuple(asio::use_awaitable));
                    if (ec)
                        break;
                    accepted.push_back({std::move(payload), clock::now()});
                    timer.expires_after(pace);
                    co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
                }
                sender_done = true;
            },
            asio::detached);
        asio::co_spawn(
            ioc,
            [this, &c]() -> asio::awaitable<void> {
                for (;;) {
                    auto [ec, m] = co_await c.async_receive(asio::as_tuple(asio::use_awaitable));
                    if (ec)
                        break;
                    received.push_back({std::move(m.payload), clock::now()});
                }
                receiver_done = true;
            },
            asio::detached);
    }

    std::size_t received_after(time_point t) const {
        return static_cast<std::size_t>(std::count_if(received.begin(), received.end(),
                                                      [t](const entry& e) { return e.at >= t; }));
    }
    bool was_received(const std::string& payload) const {
        return std::any_of(received.begin(), received.end(),
                           [&](const entry& e) { return e.payload == payload; });
    }
};

struct run_state {
    bool done = false;
    boost::system::error_code reason;
};

void start(client& c, run_state& r) {
    c.async_run([&r](boost::system::error_code ec) {
        r.reason = ec;
        r.done = true;
    });
}

// ---- ws:// failover between two Node ws servers ------------------------------------------------

TEST(ClientWebSocket, FrozenNodePrimaryIsDeclaredDeadAndTheBackupKeepsEchoing) {
    SKIP_WITHOUT_NODE();
    wt::child_process node_a, node_b;
    const unsigned short port_a = start_node_server(node_a);
    const unsigned short port_b = start_node_server(node_b);
    ASSERT_NE(port_a, 0) << "ws_echo_server.js (A) did not start";
    ASSERT_NE(port_b, 0) << "ws_echo_server.js (B) did not start";
    const std::string a = ws_uri(port_a), b = ws_uri(port_b);

    asio::io_context ioc;
    const client_config cfg = fast_client_config();
    const duration budget = silence_budget(cfg.session.heartbeat);
    cs::event_log log;
    client c(ioc.get_executor(), {parsed(a), parsed(b)}, cfg, log.callback());
    run_state run;
    start(c, run);

    // A quiet link: the client pings A, and `ws` answers with pongs.
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return count_events(log, client_event_kind::rtt, a) >= 3; }, 10s))
        << log.describe();
    ASSERT_TRUE(node_a.read_until([](const std::string& l) { return l == "open 1"; }, 5s));
    const auto first = log.snapshot().front().event;
    EXPECT_EQ(first.kind, client_event_kind::connecting);
    EXPECT_EQ(first.endpoint, a);
    const auto rtt = find_event(log, client_event_kind::rtt, a);
    ASSERT_TRUE(rtt);
    EXPECT_GT(rtt->event.rtt, duration::zero());
    EXPECT_LT(rtt->event.rtt, 200ms);

    echo_traffic traffic;
    traffic.start(ioc, c, 20ms);
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return traffic.received.size() >= 20; }, 10s))
        << "echoes from A: " << traffic.received.size();

    const std::size_t mark = log.size();
    ASSERT_TRUE(node_a.freeze());
    const time_point frozen_at = clock::now();
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return find_event(log, client_event_kind::dead, a, mark).has_value(); },
        budget + 5s))
        << log.describe(mark);
    const auto dead = *find_event(log, client_event_kind::dead, a, mark);
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return find_event(log, client_event_kind::connected, b, mark).has_value(); },
        10s))
        << log.describe(mark);
    const auto on_b = *find_event(log, client_event_kind::connected, b, mark);
    const auto failover = find_event(log, client_event_kind::failover, {}, mark);
    ASSERT_TRUE(failover);
    EXPECT_EQ(failover->event.from, a);
    EXPECT_EQ(failover->event.to, b);

    // B echoes what is sent from now on.
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return traffic.received_after(on_b.at) >= 30; }, 10s))
        << "echoes after the failover: " << traffic.received_after(on_b.at);
    traffic.stop = true;
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return traffic.sender_done; }, 5s));
    // Every message accepted since the verdict was handed to B and echoed, once, in order.
    // (Those A's kernel took while it was frozen count as delivered: WebSocket has no ACKs.)
    std::vector<std::string> expected;
    for (const auto& e : traffic.accepted)
        if (e.at >= dead.at)
            expected.push_back(e.payload);
    ASSERT_FALSE(expected.empty());
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return traffic.was_received(expected.back()); }, 5s));
    std::vector<std::string> echoed_after;
    for (const auto& e : traffic.received)
        if (std::find(expected.begin(), expected.end(), e.payload) != expected.end())
            echoed_after.push_back(e.payload);
    EXPECT_EQ(echoed_after, expected);
    std::set<std::string> distinct;
    for (const auto& e : traffic.received)
        EXPECT_TRUE(distinct.insert(e.payload).second) << "echoed twice: " << e.payload;

    ASSERT_TRUE(dead.event.dead.has_value());
    const verdict& v = *dead.event.dead;
    EXPECT_EQ(v.reason, error::peer_dead);
    EXPECT_EQ(v.missed, 3u);
    EXPECT_GE(v.silence, budget);
    EXPECT_LE(v.silence, budget + 500ms) << "generous: the library's own tests hold 50 ms";
    std::printf("[ measured ] ws failover (node ws): silence %.1f ms (budget %.0f ms), verdict "
                "%.1f ms after SIGSTOP, connected to the backup %.1f ms after the verdict\n",
                ms(v.silence), ms(budget), ms(dead.at - frozen_at), ms(on_b.at - dead.at));
    RecordProperty("silence_ms", std::to_string(ms(v.silence)));
    RecordProperty("failover_ms", std::to_string(ms(on_b.at - dead.at)));

    node_a.thaw();
    c.close();
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return run.done && traffic.receiver_done; }, 10s));
    EXPECT_EQ(run.reason, error::session_closed) << run.reason.message();
    node_a.kill_and_reap();
    node_b.kill_and_reap();
}

// ---- failback to a ws:// primary, from a native backup -----------------------------------------

TEST(ClientWebSocket, FailsBackToAThawedWebSocketPrimaryFromANativeBackup) {
    wt::io_thread primary_io;
    websocket_server_config wcfg;
    wcfg.session = wt::fast_ws_config(200ms, 200ms, 3);
    auto primary = std::make_unique<websocket_server>(primary_io.context(), wt::loopback(), wcfg);
    primary->async_run(asio::detached);
    server_config ncfg;
    ncfg.session = heartbeat::test::fast_config(200ms, 200ms, 3);
    cs::threaded_server backup(0, ncfg);
    const std::string p = ws_uri(primary->local_endpoint().port());
    const std::string n = "127.0.0.1:" + std::to_string(backup.port());

    asio::io_context ioc;
    client_config cfg = fast_client_config();
    cfg.endpoints.failback = true;
    cfg.endpoints.healthy_probes = 3;
    cfg.endpoints.min_dwell = 500ms;
    cfg.probe_interval = 200ms;
    cfg.probe_timeout = 300ms;
    cs::event_log log;
    client c(ioc.get_executor(), {parsed(p), parsed(n)}, cfg, log.callback());
    run_state run;
    start(c, run);
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return count_events(log, client_event_kind::rtt, p) >= 2; }, 10s))
        << log.describe();

    primary_io.block(); // the primary's event loop hangs; its sockets stay open
    const time_point frozen_at = clock::now();
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return find_event(log, client_event_kind::rtt, n).has_value(); }, 10s))
        << "no session on the native backup:\n"
        << log.describe();
    const auto dead = find_event(log, client_event_kind::dead, p);
    ASSERT_TRUE(dead);
    // While the primary hangs, its probes fail (the upgrade times out): no failback.
    const std::size_t while_frozen = log.size();
    wt::run_until(
        ioc, [] { return false; }, 1500ms);
    EXPECT_FALSE(find_event(log, client_event_kind::failback, {}, while_frozen))
        << log.describe(while_frozen);

    primary_io.unblock();
    const time_point thawed_at = clock::now();
    const std::size_t mark = log.size();
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return find_event(log, client_event_kind::failback, {}, mark).has_value(); },
        15s))
        << log.describe(mark);
    const auto failback = *find_event(log, client_event_kind::failback, {}, mark);
    EXPECT_EQ(failback.event.from, n);
    EXPECT_EQ(failback.event.to, p);
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return count_events(log, client_event_kind::rtt, p, mark) >= 1; }, 10s))
        << log.describe(mark);
    // 3 healthy probes 200 ms apart, and 500 ms on the backup: well under a few seconds.
    std::printf("[ measured ] ws failback: verdict %.1f ms after the freeze, failback %.1f ms "
                "after the thaw\n",
                ms(dead->at - frozen_at), ms(failback.at - thawed_at));

    // And the primary echoes through the supervisor again.
    echo_traffic traffic;
    traffic.start(ioc, c, 10ms);
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return traffic.received.size() >= 10; }, 10s));
    EXPECT_EQ(traffic.received.front().payload, traffic.accepted.front().payload);
    EXPECT_EQ(c.stats().endpoint, p);
    traffic.stop = true;
    c.close();
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return run.done && traffic.sender_done && traffic.receiver_done; }, 10s));
    EXPECT_EQ(run.reason, error::session_closed) << run.reason.message();
    EXPECT_EQ(c.stats().failbacks, 1u);
    primary->close();
}

// A ws:// primary that shuts down (close frames to its peers) and comes back on the same port,
// and a Node ws backup: probes of the primary fail while it is down (connection refused) and
// succeed once it is back; the client then fails back.
TEST(ClientWebSocket, FailsBackToARestartedWebSocketPrimaryFromANodeBackup) {
    SKIP_WITHOUT_NODE();
    wt::child_process node_backup;
    const unsigned short backup_port = start_node_server(node_backup);
    ASSERT_NE(backup_port, 0) << "ws_echo_server.js did not start";
    websocket_server_config wcfg;
    wcfg.session = wt::fast_ws_config(200ms, 200ms, 3);
    auto primary_io = std::make_unique<wt::io_thread>();
    auto primary = std::make_unique<websocket_server>(primary_io->context(), wt::loopback(), wcfg);
    primary->async_run(asio::detached);
    const unsigned short primary_port = primary->local_endpoint().port();
    const std::string p = ws_uri(primary_port), b = ws_uri(backup_port);

    asio::io_context ioc;
    client_config cfg = fast_client_config();
    cfg.endpoints.failback = true;
    cfg.endpoints.healthy_probes = 3;
    cfg.endpoints.min_dwell = 500ms;
    cfg.probe_interval = 200ms;
    cfg.probe_timeout = 300ms;
    cs::event_log log;
    client c(ioc.get_executor(), {parsed(p), parsed(b)}, cfg, log.callback());
    run_state run;
    start(c, run);
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return count_events(log, client_event_kind::rtt, p) >= 1; }, 10s))
        << log.describe();

    // Shut down: the server closes every session (close frame 1000), then is gone.
    primary->close();
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return count_events(log, client_event_kind::rtt, b) >= 1; }, 10s))
        << "no session on the Node backup:\n"
        << log.describe();
    const auto closed = find_event(log, client_event_kind::closed, p);
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->event.reason, error::peer_closed) << closed->event.reason.message();
    primary.reset();
    primary_io.reset();
    const std::size_t while_down = log.size();
    wt::run_until(
        ioc, [] { return false; }, 1s);
    EXPECT_FALSE(find_event(log, client_event_kind::failback, {}, while_down))
        << log.describe(while_down);

    // Back on the same port.
    primary_io = std::make_unique<wt::io_thread>();
    primary =
        std::make_unique<websocket_server>(primary_io->context(), wt::loopback(primary_port), wcfg);
    primary->async_run(asio::detached);
    const time_point restarted_at = clock::now();
    const std::size_t mark = log.size();
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return find_event(log, client_event_kind::failback, {}, mark).has_value(); },
        15s))
        << log.describe(mark);
    const auto failback = *find_event(log, client_event_kind::failback, {}, mark);
    EXPECT_EQ(failback.event.from, b);
    EXPECT_EQ(failback.event.to, p);
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return count_events(log, client_event_kind::rtt, p, mark) >= 1; }, 10s))
        << log.describe(mark);
    std::printf("[ measured ] ws failback after a restart: %.1f ms after the server was back\n",
                ms(failback.at - restarted_at));
    // The Node backup saw the drained session close normally (1000).
    EXPECT_TRUE(node_backup.read_until(
        [](const std::string& l) { return l.rfind("close 1 1000", 0) == 0; }, 5s));

    c.close();
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return run.done; }, 10s));
    EXPECT_EQ(run.reason, error::session_closed) << run.reason.message();
    primary->close();
    node_backup.kill_and_reap();
}

// ---- wss:// against our TLS websocket_server --------------------------------------------------

// Server names the TLS server saw in the ClientHello (SNI).
struct sni_log {
    std::mutex mutex;
    std::vector<std::string> names;

    static int callback(SSL* ssl, int*, void* arg) {
        auto* self = static_cast<sni_log*>(arg);
        const char* name = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
        std::lock_guard lock(self->mutex);
        self->names.push_back(name ? name : "");
        return SSL_TLSEXT_ERR_OK;
    }
    std::vector<std::string> seen() {
        std::lock_guard lock(mutex);
        return names;
    }
};

// A websocket_server over TLS with a self-signed certificate for `host` (and IP:127.0.0.1).
struct tls_server {
    explicit tls_server(const std::string& host)
        : pem(heartbeat::test::make_self_signed_certificate(host)),
          context(std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server)) {
        context->use_certificate_chain(asio::buffer(pem.certificate));
        context->use_private_key(asio::buffer(pem.private_key), asio::ssl::context::pem);
        SSL_CTX_set_tlsext_servername_callback(context->native_handle(), &sni_log::callback);
        SSL_CTX_set_tlsext_servername_arg(context->native_handle(), &sni);
        websocket_server_config cfg;
        cfg.session = wt::fast_ws_config(200ms, 500ms, 3);
        cfg.tls = context;
        cfg.handshake_timeout = 3s;
        server = std::make_unique<websocket_server>(io.context(), wt::loopback(), cfg);
        server->async_run(asio::detached);
    }
    ~tls_server() { server->close(); }
    unsigned short port() const { return server->local_endpoint().port(); }
    // A client context that trusts this server's certificate.
    std::shared_ptr<asio::ssl::context> trusting_client_context() const {
        auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
        ctx->add_certificate_authority(asio::buffer(pem.certificate));
        return ctx;
    }

    heartbeat::test::pem_pair pem;
    sni_log sni;
    std::shared_ptr<asio::ssl::context> context;
    wt::io_thread io;
    std::unique_ptr<websocket_server> server;
};

// Runs a client on `endpoint` until it measured an RTT and got an echo back (true), or until it
// gave up (false; `closed` holds the reason of the last attempt).
struct wss_attempt {
    bool echoed = false;
    int rtts = 0;
    boost::system::error_code closed;
    boost::system::error_code run_end;
    std::string log;
};

wss_attempt try_wss(const std::string& uri, client_config cfg) {
    wss_attempt out;
    asio::io_context ioc;
    cfg.give_up.max_attempts = 2;
    cs::event_log log;
    client c(ioc.get_executor(), {parsed(uri)}, cfg, log.callback());
    run_state run;
    start(c, run);
    std::string got;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            auto [ec, seq] = co_await c.async_send("over wss", asio::as_tuple(asio::use_awaitable));
            if (ec)
                co_return;
            auto [rec, m] = co_await c.async_receive(asio::as_tuple(asio::use_awaitable));
            if (!rec)
                got = m.payload;
        },
        asio::detached);
    wt::run_until(
        ioc,
        [&] {
            return run.done ||
                   (got == "over wss" && count_events(log, client_event_kind::rtt, uri) >= 2);
        },
        15s);
    out.echoed = got == "over wss";
    out.rtts = static_cast<int>(count_events(log, client_event_kind::rtt, uri));
    if (auto closed = find_event(log, client_event_kind::closed, uri))
        out.closed = closed->event.reason;
    c.close();
    wt::run_until(
        ioc, [&] { return run.done; }, 10s);
    out.run_end = run.reason;
    out.log = log.describe();
    return out;
}

TEST(ClientWebSocket, WssEchoesThroughTheClientWithAVerifiedCertificateAndSni) {
    tls_server server("localhost");
    client_config cfg = fast_client_config();
    cfg.websocket.tls_context = server.trusting_client_context();
    const auto by_name = try_wss(ws_uri(server.port(), "wss", "localhost"), cfg);
    EXPECT_TRUE(by_name.echoed) << by_name.log;
    EXPECT_GE(by_name.rtts, 2) << by_name.log;
    EXPECT_EQ(by_name.run_end, error::session_closed) << by_name.run_end.message();
    const auto names = server.sni.seen();
    ASSERT_FALSE(names.empty());
    EXPECT_EQ(names.back(), "localhost") << "SNI carries the endpoint's host name";

    // An address literal: verified against the certificate's IP subjectAltName, no SNI.
    const auto by_address = try_wss(ws_uri(server.port(), "wss"), cfg);
    EXPECT_TRUE(by_address.echoed) << by_address.log;
    EXPECT_EQ(server.sni.seen().back(), "") << "no SNI for an IP address (RFC 6066)";
}

TEST(ClientWebSocket, WssRejectsAnUntrustedCertificateByDefault) {
    tls_server server("localhost");
    const auto r = try_wss(ws_uri(server.port(), "wss", "localhost"), fast_client_config());
    EXPECT_FALSE(r.echoed) << r.log;
    EXPECT_EQ(r.rtts, 0);
    EXPECT_EQ(r.closed.category(), asio::error::get_ssl_category()) << r.closed.message() << "\n"
                                                                    << r.log;
    EXPECT_EQ(r.run_end, error::all_endpoints_failed) << r.run_end.message();
}

TEST(ClientWebSocket, WssRejectsATrustedCertificateIssuedForAnotherHost) {
    tls_server server("wrong.example");
    client_config cfg = fast_client_config();
    cfg.websocket.tls_context = server.trusting_client_context();
    const auto r = try_wss(ws_uri(server.port(), "wss", "localhost"), cfg);
    EXPECT_FALSE(r.echoed) << r.log;
    EXPECT_EQ(r.closed.category(), asio::error::get_ssl_category()) << r.closed.message() << "\n"
                                                                    << r.log;
    EXPECT_EQ(r.run_end, error::all_endpoints_failed) << r.run_end.message();
}

TEST(ClientWebSocket, WssWithoutVerificationAcceptsASelfSignedCertificate) {
    tls_server server("localhost");
    client_config cfg = fast_client_config();
    cfg.websocket.verify_certificate = false;
    const auto r = try_wss(ws_uri(server.port(), "wss", "localhost"), cfg);
    EXPECT_TRUE(r.echoed) << r.log;
    EXPECT_EQ(r.run_end, error::session_closed) << r.run_end.message();
}

// ---- handshake deadline -------------------------------------------------------------------------

TEST(ClientWebSocket, AnUnansweredUpgradeOrTlsHandshakeEndsWithHandshakeTimeout) {
    asio::io_context ioc;
    // Accepts connections and holds them without reading a byte.
    tcp::acceptor acceptor(ioc, wt::loopback());
    std::vector<tcp::socket> held;
    std::function<void()> accept_next = [&] {
        acceptor.async_accept([&](boost::system::error_code ec, tcp::socket s) {
            if (ec)
                return;
            held.push_back(std::move(s));
            accept_next();
        });
    };
    accept_next();
    const auto port = acceptor.local_endpoint().port();
    const std::string ws = ws_uri(port), wss = ws_uri(port, "wss");

    client_config cfg = fast_client_config();
    cfg.session.handshake_timeout = 300ms;
    cfg.give_up.max_attempts = 2;
    cs::event_log log;
    client c(ioc.get_executor(), {parsed(ws), parsed(wss)}, cfg, log.callback());
    run_state run;
    start(c, run);
    ASSERT_TRUE(wt::run_until(
        ioc, [&] { return run.done; }, 10s))
        << log.describe();
    EXPECT_EQ(run.reason, error::all_endpoints_failed) << run.reason.message();
    EXPECT_EQ(held.size(), 2u) << "both attempts reached TCP";
    const auto events = log.snapshot();
    std::map<std::string, time_point> connecting_at;
    int timeouts = 0;
    for (const auto& e : events) {
        if (e.event.kind == client_event_kind::connecting)
            connecting_at[e.event.endpoint] = e.at;
        if (e.event.kind != client_event_kind::closed)
            continue;
        EXPECT_EQ(e.event.reason, error::handshake_timeout)
            << e.event.endpoint << ": " << e.event.reason.message();
        const auto took = e.at - connecting_at[e.event.endpoint];
        EXPECT_GE(took, 300ms) << e.event.endpoint;
        EXPECT_LT(took, 2s) << e.event.endpoint;
        ++timeouts;
    }
    EXPECT_EQ(timeouts, 2) << log.describe();
    EXPECT_EQ(count_events(log, client_event_kind::connected, ws), 0u);
    EXPECT_EQ(count_events(log, client_event_kind::connected, wss), 0u);
}

} // namespace
