// The client supervisor through a real middlebox: HAProxy in TCP mode with 1 s idle timeouts
// (`timeout client 1s`, `timeout server 1s`) between the client and a heartbeat::tcp_server.
//  (a) heartbeats every 300 ms keep the proxied session alive through 10 s without application
//      traffic: no reconnect;
//  (b) without heartbeats (1 h interval, OS keepalive off on both sides) the proxy cuts the idle
//      connection after ~1 s; the client sees peer_closed and reconnects.
//
// HAProxy (Debian package `haproxy`, installed by scripts/install-deps.sh) must be on PATH; the
// test fails with a message otherwise and never installs anything. It runs haproxy in the
// foreground (-db) as a child process with a config in a temp dir, and stops it by PID.
#include "client_test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/server/server.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <iterator>

using namespace heartbeat;
using namespace std::chrono_literals;
namespace ht = heartbeat::test;
namespace cs = heartbeat::test::client_support;
namespace asio = boost::asio;

namespace {

std::string read_file(const std::filesystem::path& p) {
    std::ifstream in(p);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// HAProxy forwarding 127.0.0.1:port() to 127.0.0.1:backend_port in TCP mode, 1 s timeouts.
class haproxy_tcp_proxy {
public:
    // Returns an empty string on success, else what went wrong (with haproxy's output).
    std::string start(const std::string& haproxy, unsigned short backend_port) {
        std::string last_error;
        for (int tries = 0; tries < 3; ++tries) { // the free port may be taken meanwhile
            port_ = cs::unused_port();
            const auto cfg = dir_.path() / "haproxy.cfg";
            const auto log = dir_.path() / "haproxy.log";
            {
                std::ofstream out(cfg);
                // No daemon, chroot, user/group or stats socket: runs unprivileged, in the
                // foreground, touching nothing outside the temp dir.
                out << "global\n"
                       "    maxconn 256\n"
                       "\n"
                       "defaults\n"
                       "    mode tcp\n"
                       "    timeout connect 1s\n"
                       "    timeout client 1s\n"
                       "    timeout server 1s\n"
                       "\n"
                       "frontend hb_front\n"
                       "    bind 127.0.0.1:"
                    << port_
                    << "\n"
                       "    default_backend hb_back\n"
                       "\n"
                       "backend hb_back\n"
                       "    server hb1 127.0.0.1:"
                    << backend_port << "\n";
            }
            if (!process_.start(haproxy, {"-f", cfg.string(), "-db"}, log.string()))
                return "fork/exec of " + haproxy + " failed";
            // Ready when the frontend accepts a TCP connection (bounded).
            const bool listening = ht::wait_until(
                [&] {
                    if (!process_.alive())
                        return true;
                    asio::io_context ioc;
                    asio::ip::tcp::socket s(ioc);
                    boost::system::error_code ec;
                    s.connect({asio::ip::make_address("127.0.0.1"), port_}, ec);
                    return !ec;
                },
                5s);
            if (listening && process_.alive())
                return {};
            process_.stop(2000ms);
            last_error = "haproxy did not start listening on 127.0.0.1:" + std::to_string(port_) +
                         "; its output:\n" + read_file(log);
        }
        return last_error;
    }
    unsigned short port() const { return port_; }
    pid_t pid() const { return process_.pid(); }
    bool alive() { return process_.alive(); }
    // SIGTERM, bounded wait, SIGKILL if needed; reaped.
    bool stop() { return process_.stop(3000ms); }
    std::string output() { return read_file(dir_.path() / "haproxy.log"); }

private:
    ht::temp_dir dir_;
    cs::child_process process_;
    unsigned short port_ = 0;
};

// The haproxy binary on PATH; empty (and a test failure with a message) when missing.
std::string require_haproxy() {
    const std::string path = cs::find_on_path("haproxy");
    if (path.empty())
        ADD_FAILURE() << "haproxy is not on PATH (PATH="
                      << (std::getenv("PATH") ? std::getenv("PATH") : "")
                      << "). Install the Debian package `haproxy` (scripts/install-deps.sh does); "
                         "this test does not install anything.";
    return path;
}

} // namespace

TEST(ClientMiddlebox, HeartbeatsKeepASessionThroughHaproxyAliveWhileIdle) {
    const std::string haproxy = require_haproxy();
    if (haproxy.empty())
        return;
    server_config scfg;
    scfg.session = ht::fast_config(300ms, 1000ms, 3); // echo server, pings every 300 ms
    cs::threaded_server server(0, scfg);
    haproxy_tcp_proxy proxy;
    const std::string err = proxy.start(haproxy, server.port());
    ASSERT_TRUE(err.empty()) << err;

    asio::io_context ioc;
    client_config cfg;
    cfg.session = ht::fast_config(300ms, 1000ms, 3);
    cfg.use_reconnect_budget = false;
    cs::event_log events;
    client c(ioc.get_executor(), {cs::local_endpoint_for(proxy.port())}, cfg, events.callback());
    bool run_done = false;
    c.async_run([&](boost::system::error_code) { run_done = true; });
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return c.stats().connected; }, 5s))
        << events.describe();

    // Data flows through the proxy: one echo.
    const auto echo = [&](const std::string& text) {
        bool got = false;
        std::string reply;
        c.async_send(text, [](boost::system::error_code, std::uint64_t) {});
        c.async_receive([&](boost::system::error_code ec, received_message m) {
            got = !ec;
            reply = m.payload;
        });
        ht::run_until(
            ioc, [&] { return got; }, 3s);
        return reply;
    };
    EXPECT_EQ(echo("through the proxy"), "through the proxy");

    // 10 s without application traffic: ten times the proxy's idle timeout.
    const std::size_t mark = events.size();
    const time_point idle_from = clock::now();
    ht::run_for(ioc, 10s);
    const double idle_ms = cs::ms_between(idle_from, clock::now());
    const auto stats = c.stats();
    const std::size_t rtts = events.count(client_event_kind::rtt, mark);
    std::printf("idle %.0f ms through haproxy: %zu RTT samples, sessions %llu, closed events %zu\n",
                idle_ms, rtts, static_cast<unsigned long long>(stats.sessions),
                events.count(client_event_kind::closed));
    EXPECT_EQ(events.count(client_event_kind::closed), 0u) << events.describe(mark);
    EXPECT_EQ(stats.sessions, 1u);
    EXPECT_EQ(stats.attempts, 1u);
    EXPECT_TRUE(stats.connected);
    // ~10 s / (300 ms + RTT) pings answered: the heartbeats really went through the proxy.
    EXPECT_GE(rtts, 20u);
    EXPECT_EQ(echo("still there"), "still there");
    EXPECT_TRUE(proxy.alive()) << proxy.output();

    c.close();
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return run_done; }, 5s));
    EXPECT_TRUE(proxy.stop()) << "haproxy did not exit on SIGTERM within 3 s";
}

TEST(ClientMiddlebox, HaproxyCutsAnIdleSessionWithoutHeartbeatsAndTheClientReconnects) {
    const std::string haproxy = require_haproxy();
    if (haproxy.empty())
        return;
    server_config scfg;
    scfg.session = ht::fast_config(std::chrono::hours(1), std::chrono::hours(1), 3);
    scfg.session.tcp_keepalive = false;
    cs::threaded_server server(0, scfg);
    haproxy_tcp_proxy proxy;
    const std::string err = proxy.start(haproxy, server.port());
    ASSERT_TRUE(err.empty()) << err;

    asio::io_context ioc;
    client_config cfg;
    cfg.session = ht::fast_config(std::chrono::hours(1), std::chrono::hours(1), 3);
    cfg.session.tcp_keepalive = false;
    cfg.use_reconnect_budget = false;
    cs::event_log events;
    client c(ioc.get_executor(), {cs::local_endpoint_for(proxy.port())}, cfg, events.callback());
    bool run_done = false;
    c.async_run([&](boost::system::error_code) { run_done = true; });

    const auto first_of = [&](client_event_kind k,
                              std::size_t nth) -> std::optional<cs::timed_event> {
        std::size_t n = 0;
        for (auto& t : events.snapshot())
            if (t.event.kind == k && n++ == nth)
                return t;
        return std::nullopt;
    };
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return first_of(client_event_kind::connected, 0).has_value(); }, 5s))
        << events.describe();
    // Idle from here: the HELLO exchange is the last traffic, and neither side pings for 1 h.
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return first_of(client_event_kind::closed, 0).has_value(); }, 5s))
        << "haproxy never cut the idle connection\n"
        << events.describe();
    const auto connected = *first_of(client_event_kind::connected, 0);
    const auto closed = *first_of(client_event_kind::closed, 0);
    const double cut_ms = cs::ms_between(connected.at, closed.at);
    EXPECT_EQ(closed.event.reason, error::peer_closed) << closed.event.reason.message();
    EXPECT_GE(cut_ms, 800.0);
    EXPECT_LE(cut_ms, 3000.0);
    EXPECT_EQ(c.stats().verdicts, 0u) << "the heartbeat did not decide this; the proxy did";

    // The supervisor reconnects through the proxy.
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return first_of(client_event_kind::connected, 1).has_value(); }, 5s))
        << events.describe();
    const auto again = first_of(client_event_kind::connected, 1);
    std::printf("haproxy cut the idle session %.0f ms after connect; reconnected %.1f ms later\n",
                cut_ms, again ? cs::ms_between(closed.at, again->at) : -1.0);
    EXPECT_GE(c.stats().sessions, 2u);

    c.close();
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return run_done; }, 5s));
    EXPECT_TRUE(proxy.stop()) << "haproxy did not exit on SIGTERM within 3 s";
}
