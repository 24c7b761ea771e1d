// Issue 14 item 3: false verdicts when OUR side, not the peer, is slow. A forked server process
// (freeze_peer.hpp's Beast WebSocket echo server, never frozen here) serves --peers healthy
// connections of each kind from one client io_context:
//   session  ws_session, interval B/4, pong timeout B/4, 3 misses (budget B, default 800 ms),
//            local-stall guard at its default tolerance (250 ms);
//   beast    websocket::stream with stream_base::timeout{idle_timeout = B, keep_alive_pings}
//            and a read outstanding (it gives up after B of silence: see
//            detection_precision.cpp).
// Two phases of --seconds each:
//   busy       application work on the client's own io_context thread: a handler spins
//              --busy-ms (9) of every --period-ms (10), so the loop is ~90 % busy;
//   saturated  the loop is idle but the whole machine is: one busy-loop child per core (twice
//              nproc), forked by this harness and ended by PID.
// Every verdict is false (the peers are healthy): counted per kind. Target for this project: 0.
//
// Usage: false_verdicts_under_load [--seconds=60] [--peers=200] [--budget-ms=800] [--busy-ms=9]
//          [--period-ms=10]
#include "freeze_peer.hpp"

#include <heartbeat/protocol/websocket/websocket_session.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <csignal>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

namespace {

using namespace precision;
using steady = std::chrono::steady_clock;
using boost::system::error_code;
using ws_stream = websocket::stream<tcp::socket>;

struct options {
    int seconds = 60, peers = 200, budget_ms = 800, busy_ms = 9, period_ms = 10;
};

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto eq = a.find('=');
        const std::string key = a.substr(0, eq),
                          val = eq == std::string::npos ? "" : a.substr(eq + 1);
        int* field = key == "--seconds"     ? &o.seconds
                     : key == "--peers"     ? &o.peers
                     : key == "--budget-ms" ? &o.budget_ms
                     : key == "--busy-ms"   ? &o.busy_ms
                     : key == "--period-ms" ? &o.period_ms
                                            : nullptr;
        if (!field)
            fail("unknown option " + a + " (see the header of false_verdicts_under_load.cpp)");
        try {
            *field = std::stoi(val);
        } catch (const std::logic_error&) {
            fail("bad value in " + a);
        }
    }
    if (o.seconds < 1 || o.peers < 1 || o.budget_ms < 100 || o.period_ms < 1 || o.busy_ms < 0 ||
        o.busy_ms >= o.period_ms)
        fail("need --seconds >= 1, --peers >= 1, --budget-ms >= 100, 0 <= --busy-ms < --period-ms");
    return o;
}

tcp::socket connect_to(asio::io_context& ioc, unsigned short port) {
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    s.set_option(tcp::no_delay(true));
    return s;
}

struct counts {
    int session_verdicts = 0, session_other_endings = 0, beast_timeouts = 0, beast_other = 0;
    int forgiven_stalls = 0;
    double busy_fraction = 0;
};

counts run_phase(const options& o, const peer_process& peer, bool busy_loop) {
    const auto budget = std::chrono::milliseconds(o.budget_ms);
    asio::io_context ioc(1);
    counts c;
    heartbeat::websocket_session_config cfg;
    cfg.heartbeat.interval = budget / 4;
    cfg.heartbeat.pong_timeout = budget / 4;
    cfg.heartbeat.max_missed = 3;
    heartbeat::session_callbacks cb;
    cb.on_verdict = [&](const heartbeat::verdict&) { ++c.session_verdicts; };
    cb.on_local_stall = [&](heartbeat::duration) { ++c.forgiven_stalls; };
    std::vector<std::unique_ptr<heartbeat::ws_session>> sessions;
    std::vector<std::unique_ptr<ws_stream>> beasts;
    std::vector<beast::flat_buffer> bufs(static_cast<std::size_t>(o.peers));
    const std::string host = "127.0.0.1:" + std::to_string(peer.ws_port);
    for (int i = 0; i < o.peers; ++i) {
        ws_stream ws(connect_to(ioc, peer.ws_port));
        ws.handshake(host, "/");
        sessions.push_back(std::make_unique<heartbeat::ws_session>(std::move(ws), cfg, cb));
        sessions.back()->async_run([&](error_code ec) {
            if (ec != heartbeat::error::peer_dead)
                ++c.session_other_endings;
        });
        auto b = std::make_unique<ws_stream>(connect_to(ioc, peer.ws_port));
        b->handshake(host, "/");
        websocket::stream_base::timeout opt{};
        opt.handshake_timeout = std::chrono::seconds(2);
        opt.idle_timeout = budget;
        opt.keep_alive_pings = true;
        b->set_option(opt);
        b->async_read(bufs[static_cast<std::size_t>(i)], [&](error_code ec, std::size_t) {
            ++(ec == beast::error::timeout ? c.beast_timeouts : c.beast_other);
        });
        beasts.push_back(std::move(b));
    }

    // The application's work: spin busy_ms, yield to the loop for the rest of the period.
    asio::steady_timer work(ioc);
    steady::duration spun{};
    const auto start = steady::now(), end = start + std::chrono::seconds(o.seconds);
    std::function<void()> next = [&] {
        const auto t0 = steady::now();
        if (t0 >= end)
            return;
        while (steady::now() - t0 < std::chrono::milliseconds(o.busy_ms)) {
        }
        spun += steady::now() - t0;
        work.expires_at(t0 + std::chrono::milliseconds(o.period_ms));
        work.async_wait([&](error_code ec) {
            if (!ec)
                next();
        });
    };
    if (busy_loop)
        asio::post(ioc, next);
    ioc.run_until(end);
    c.busy_fraction = std::chrono::duration<double>(spun) / (steady::now() - start);
    return c;
}

// One busy-loop child per slot, by PID; they die with this process too (PDEATHSIG).
std::vector<pid_t> saturate(int n) {
    std::vector<pid_t> pids;
    for (int i = 0; i < n; ++i) {
        const pid_t pid = ::fork();
        if (pid < 0)
            fail(std::string("fork: ") + std::strerror(errno));
        if (pid == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            volatile unsigned long spins = 0;
            for (;;)
                spins = spins + 1;
        }
        pids.push_back(pid);
    }
    return pids;
}

void end_all(const std::vector<pid_t>& pids) {
    for (pid_t p : pids)
        ::kill(p, SIGKILL);
    for (pid_t p : pids)
        while (::waitpid(p, nullptr, 0) < 0 && errno == EINTR) {
        }
}

void report(const char* phase, const options& o, const counts& c) {
    std::printf("  %-9s session verdicts %d/%d (other endings %d, stalls forgiven %d) | beast "
                "timeouts %d/%d (other endings %d) | client loop busy %.0f %%  target 0 session "
                "verdicts: %s\n",
                phase, c.session_verdicts, o.peers, c.session_other_endings, c.forgiven_stalls,
                c.beast_timeouts, o.peers, c.beast_other, 100 * c.busy_fraction,
                c.session_verdicts == 0 ? "MET" : "MISSED");
    std::fflush(stdout);
}

} // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    std::signal(SIGPIPE, SIG_IGN);
    std::printf("== false verdicts under local load: %d healthy peers per kind, budget %d ms, "
                "%d s per phase ==\n",
                o.peers, o.budget_ms, o.seconds);
    peer_process peer = spawn_peer();
    report("busy", o, run_phase(o, peer, true));
    const int hogs = 2 * static_cast<int>(sysconf(_SC_NPROCESSORS_ONLN));
    const std::vector<pid_t> pids = saturate(hogs);
    const counts sat = run_phase(o, peer, false);
    end_all(pids);
    report("saturated", o, sat);
    end_peer(peer);
    return 0;
}
