// client::close() and cancel() during a connection attempt end it at once, whatever stage it is
// in, instead of after its timeout; and `connected` is reported only once the protocol
// handshake completed, never for a TCP connection whose peer does not speak.
//
// The peer here accepts TCP connections and holds them without reading or writing a byte: a
// WebSocket upgrade, a TLS handshake or a native HELLO exchange with it never completes.
#include "client_test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/core/error.hpp>

#include <gtest/gtest.h>

#include <functional>

namespace {

using namespace heartbeat;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace cs = heartbeat::test::client_support;
namespace ht = heartbeat::test;
using tcp = asio::ip::tcp;

class silent_acceptor {
public:
    explicit silent_acceptor(asio::io_context& ioc) : acceptor_(ioc, ht::loopback()) { next(); }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    std::size_t held() const { return held_.size(); }

private:
    void next() {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
            if (ec)
                return;
            held_.push_back(std::move(s));
            next();
        });
    }
    tcp::acceptor acceptor_;
    std::vector<tcp::socket> held_;
};

struct outcome {
    bool done = false;
    boost::system::error_code reason;
    time_point at{};
};

// Starts a client on `uri` (handshakes bounded by 30 s), waits until its attempt reached the
// silent peer, then calls `stop` and measures how long async_run takes to complete.
void expect_prompt_stop(const std::string& uri, const std::function<void(client&)>& stop,
                        boost::system::error_code expected) {
    asio::io_context ioc;
    silent_acceptor peer(ioc);
    const std::string text = uri + std::to_string(peer.port()) + "/";
    client_config cfg;
    cfg.session.handshake_timeout = 30s;
    cfg.connect_timeout = 30s;
    cs::event_log log;
    client c(ioc.get_executor(), {*parse_endpoint(text)}, cfg, log.callback());
    outcome run;
    c.async_run([&](boost::system::error_code ec) { run = {true, ec, clock::now()}; });
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return peer.held() == 1; }, 5s));
    ht::run_for(ioc, 200ms); // the handshake is now waiting on the silent peer
    const time_point stopped_at = clock::now();
    stop(c);
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return run.done; }, 10s))
        << text << " still running 10 s after the stop\n"
        << log.describe();
    const double took = cs::ms_between(stopped_at, run.at);
    std::printf("[ measured ] %s: async_run completed %.2f ms after the stop\n", text.c_str(),
                took);
    EXPECT_EQ(run.reason, expected) << run.reason.message();
    EXPECT_LT(took, 500.0) << "the attempt waited for its timeout";
    EXPECT_EQ(log.count(client_event_kind::connected), 0u) << log.describe();
}

TEST(ClientConnectAbort, CloseAbandonsAPendingWebSocketUpgradeAtOnce) {
    expect_prompt_stop(
        "ws://127.0.0.1:", [](client& c) { c.close(); }, error::session_closed);
}

TEST(ClientConnectAbort, CloseAbandonsAPendingTlsHandshakeAtOnce) {
    expect_prompt_stop(
        "wss://127.0.0.1:", [](client& c) { c.close(); }, error::session_closed);
}

TEST(ClientConnectAbort, CancelAbandonsAPendingWebSocketUpgradeAtOnce) {
    expect_prompt_stop(
        "ws://127.0.0.1:", [](client& c) { c.cancel(); }, asio::error::operation_aborted);
}

// A native peer that accepts TCP but never sends HELLO: the attempt ends with
// handshake_timeout, and `connected` was never reported.
TEST(ClientConnectAbort, ConnectedComesOnlyAfterTheNativeHandshake) {
    asio::io_context ioc;
    silent_acceptor peer(ioc);
    client_config cfg;
    cfg.session.handshake_timeout = 300ms;
    cfg.give_up.max_attempts = 1;
    cs::event_log log;
    client c(ioc.get_executor(), {cs::local_endpoint_for(peer.port())}, cfg, log.callback());
    outcome run;
    c.async_run([&](boost::system::error_code ec) { run = {true, ec, clock::now()}; });
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return run.done; }, 10s))
        << log.describe();
    EXPECT_EQ(run.reason, error::all_endpoints_failed) << run.reason.message();
    EXPECT_EQ(peer.held(), 1u);
    EXPECT_EQ(log.count(client_event_kind::connected), 0u) << log.describe();
    EXPECT_EQ(log.count(client_event_kind::closed), 1u) << log.describe();
    for (const auto& e : log.snapshot())
        if (e.event.kind == client_event_kind::closed)
            EXPECT_EQ(e.event.reason, error::handshake_timeout) << e.event.reason.message();
}

// ...and with a peer that answers, `connected` precedes the first heartbeat event.
TEST(ClientConnectAbort, ConnectedPrecedesAliveWithAnAnsweringPeer) {
    server_config scfg;
    scfg.session = ht::fast_config(100ms, 200ms, 3);
    cs::threaded_server server(0, scfg);
    asio::io_context ioc;
    client_config cfg;
    cfg.session = ht::fast_config(100ms, 200ms, 3);
    cs::event_log log;
    client c(ioc.get_executor(), {cs::local_endpoint_for(server.port())}, cfg, log.callback());
    outcome run;
    c.async_run([&](boost::system::error_code ec) { run = {true, ec, clock::now()}; });
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return log.count(client_event_kind::rtt) >= 1; }, 10s))
        << log.describe();
    const auto events = log.snapshot();
    ASSERT_GE(events.size(), 3u);
    EXPECT_EQ(events[0].event.kind, client_event_kind::connecting);
    EXPECT_EQ(events[1].event.kind, client_event_kind::connected) << log.describe();
    EXPECT_EQ(events[2].event.kind, client_event_kind::alive) << log.describe();
    c.close();
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return run.done; }, 10s));
    EXPECT_EQ(run.reason, error::session_closed);
}

} // namespace
