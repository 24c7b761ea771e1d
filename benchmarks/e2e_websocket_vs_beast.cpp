// End to end: heartbeat::ws_session against plain Boost.Beast WebSocket streams, in one process
// invocation, at the same CPU pinning (the same method as e2e_session_vs_asio.cpp: contenders
// interleaved, the order reversed every round, a fresh io_context per trial, medians of
// per-round ratios, one discarded warm-up round).
//
// Scenarios (127.0.0.1 TCP, TCP_NODELAY on every socket):
//   echo    64-byte binary WebSocket round trips/s, both ends of the connection driven by ONE
//           single-threaded io_context (concurrency hint 1):
//             session  ws_session both ends (default config: 2 s interval, 10 % jitter, 2 s pong
//                      timeout, so no ping is due while traffic flows). Client: async_send then
//                      async_receive; server: async_receive then async_send of the received
//                      payload, moved (what an echo written against the session API does).
//             beast    websocket::stream<tcp::socket> coroutines both ends: async_write of the
//                      payload, async_read into a flat_buffer (server: read, write back the
//                      buffer, consume). Beast's timeouts are off (its default).
//           Target: session >= 0.97x beast.
//   freeze  detection of a frozen peer. Each trial forks a child process running a plain Beast
//           WebSocket echo server (reading continuously, so it answers pings). Two clients in
//           this process connect to it side by side on one io_context:
//             session  ws_session, interval 100 ms, pong timeout 100 ms, 3 misses (budget
//                      400 ms), jitter 0.1 (the default);
//             beast    websocket::stream<tcp::socket> with stream_base::timeout{handshake 2 s,
//                      idle_timeout = 2 x budget, keep_alive_pings = true} and an async_read
//                      outstanding (Beast pings after idle_timeout / 2 without inbound traffic
//                      and fails the read with beast::error::timeout after another half, so it
//                      never gives up before a silence of idle_timeout / 2 = budget).
//           After a random warm-up (so the freeze falls at a random phase of Beast's
//           keep-alive timer) the child is SIGSTOPped at a random offset in [0, interval) after
//           one of our pongs (a random phase of our heartbeat schedule). Recorded per client:
//           the silence at its verdict (ours: verdict.silence and, independently, the time
//           since the last pong seen through on_rtt; Beast: time since the last inbound
//           frame seen by its control callback) over the budget, and the detection time from
//           the SIGSTOP. Then SIGCONT, SIGTERM and waitpid, by PID. A trial during which this
//           process was itself descheduled for more than 50 ms (seen as a gap in its own event
//           loop, or as a local stall reported by the verdict) is printed, discarded and rerun.
//
//   memory  N idle connected WebSocket pairs (both ends in this process), after the handshake:
//             session  ws_session both ends, default config (2 s interval, 10 % jitter), one
//                      config shared by all, as a websocket_server's sessions share theirs
//                      (--mem-config=own gives each session its own copy);
//             beast    websocket::stream<tcp::socket> both ends with stream_base::timeout{
//                      idle_timeout 4 s, keep_alive_pings} (Beast pings after 2 s without
//                      inbound traffic, our cadence) and an async_read outstanding on a
//                      flat_buffer, so it answers and sees pings.
//           Same method as e2e_session_vs_asio's memory scenario (harness_memory.hpp): a forked
//           child per measurement, RSS and heap per pair by stage, kernel slabs.
//           Target (issue 14): session <= 1.2x beast in userspace RSS.
//
// Usage: e2e_websocket_vs_beast [--scenario=all|echo|freeze|memory] [--cpu=1] [--rounds=7]
//          [--echo-ms=250] [--payload=64] [--freezes=20] [--interval-ms=100]
//          [--pong-timeout-ms=100] [--misses=3] [--jitter=0.1] [--seed=1]
//          [--pairs=2000] [--mem-rounds=3] [--mem-idle-ms=2500] [--mem-config=shared|own]
//        Profiling aids: --only=session|beast runs one echo contender alone (no ratios;
//        memory: in this process, no fork),
//        --echo-trips=N times a fixed number of round trips.
//        The defaults finish in about 35 s on a 2-core VM.
#include <heartbeat/protocol/websocket/websocket_session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <new>
#include <optional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.hpp"
#include "harness_memory.hpp"

namespace {

using namespace e2e;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using boost::system::error_code;
using ws_stream = websocket::stream<tcp::socket>;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// ---- options -------------------------------------------------------------------------------

struct options {
    std::string scenario = "all";
    int cpu = 1;
    int rounds = 7; // measured echo rounds (plus one discarded warm-up)
    int echo_ms = 250;
    std::size_t echo_trips = 0; // profiling aid: a fixed number of round trips
    std::size_t payload = 64;
    int freezes = 20;
    int interval_ms = 100;
    int pong_timeout_ms = 100;
    unsigned misses = 3;
    double jitter = 0.1;
    unsigned seed = 1;
    std::string only; // profiling aid: run one echo contender alone
    std::size_t pairs = 2000;
    int mem_rounds = 3;
    int mem_idle_ms = 2500;
    bool mem_shared_config = true; // the idle sessions share one config (--mem-config=own: not)
};

[[noreturn]] void usage(const char* argv0) {
    std::fprintf(stderr,
                 "usage: %s [--scenario=all|echo|freeze|memory] [--cpu=N] [--rounds=N] "
                 "[--echo-ms=N] [--echo-trips=N] [--payload=N] [--freezes=N] [--interval-ms=N] "
                 "[--pong-timeout-ms=N] [--misses=N] [--jitter=X] [--seed=N] "
                 "[--only=session|beast] [--pairs=N] [--mem-rounds=N] [--mem-idle-ms=N] "
                 "[--mem-config=shared|own]\n",
                 argv0);
    std::exit(2);
}

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto eq = a.find('=');
        const std::string key = a.substr(0, eq);
        const std::string val = eq == std::string::npos ? "" : a.substr(eq + 1);
        try {
            if (key == "--scenario")
                o.scenario = val;
            else if (key == "--cpu")
                o.cpu = std::stoi(val);
            else if (key == "--rounds")
                o.rounds = std::stoi(val);
            else if (key == "--echo-ms")
                o.echo_ms = std::stoi(val);
            else if (key == "--echo-trips")
                o.echo_trips = std::stoul(val);
            else if (key == "--payload")
                o.payload = std::stoul(val);
            else if (key == "--freezes")
                o.freezes = std::stoi(val);
            else if (key == "--interval-ms")
                o.interval_ms = std::stoi(val);
            else if (key == "--pong-timeout-ms")
                o.pong_timeout_ms = std::stoi(val);
            else if (key == "--misses")
                o.misses = static_cast<unsigned>(std::stoul(val));
            else if (key == "--jitter")
                o.jitter = std::stod(val);
            else if (key == "--seed")
                o.seed = static_cast<unsigned>(std::stoul(val));
            else if (key == "--only")
                o.only = val;
            else if (key == "--pairs")
                o.pairs = std::stoul(val);
            else if (key == "--mem-rounds")
                o.mem_rounds = std::stoi(val);
            else if (key == "--mem-idle-ms")
                o.mem_idle_ms = std::stoi(val);
            else if (key == "--mem-config" && (val == "own" || val == "shared"))
                o.mem_shared_config = val == "shared";
            else
                usage(argv[0]);
        } catch (const std::logic_error&) {
            usage(argv[0]);
        }
    }
    if (o.scenario != "all" && o.scenario != "echo" && o.scenario != "freeze" &&
        o.scenario != "memory")
        usage(argv[0]);
    return o;
}

double ms(steady::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

// ---- connections -----------------------------------------------------------------------------

// A connected WebSocket pair {server, client}: both handshakes run on `ioc`.
std::pair<ws_stream, ws_stream> ws_pair(asio::io_context& ioc) {
    auto [a, b] = tcp_pair(ioc);
    ws_stream server(std::move(a));
    ws_stream client(std::move(b));
    error_code accept_ec, handshake_ec;
    server.async_accept([&](error_code ec) { accept_ec = ec; });
    client.async_handshake("127.0.0.1", "/", [&](error_code ec) { handshake_ec = ec; });
    ioc.run_for(std::chrono::seconds(10));
    if (!ioc.stopped())
        fail("WebSocket handshake did not finish within 10 s");
    ioc.restart();
    if (accept_ec || handshake_ec)
        fail("WebSocket handshake failed: " + accept_ec.message() + " / " + handshake_ec.message());
    server.binary(true);
    client.binary(true);
    return {std::move(server), std::move(client)};
}

// ============================================================================================
// Scenario 1: echo round trips
// ============================================================================================

std::size_t g_payload = 64;

asio::awaitable<void> session_echo_server(heartbeat::ws_session& s) {
    for (;;) {
        auto [ec, msg] = co_await s.async_receive(use_tuple);
        if (ec)
            co_return;
        auto [sec] = co_await s.async_send(std::move(msg.payload), use_tuple);
        if (sec)
            co_return;
    }
}

echo_result echo_session() {
    asio::io_context ioc(1);
    auto [a, b] = ws_pair(ioc);
    heartbeat::ws_session server(std::move(a)); // default websocket_session_config
    heartbeat::ws_session client(std::move(b));
    server.async_run(asio::detached);
    client.async_run(asio::detached);
    asio::co_spawn(ioc, session_echo_server(server), asio::detached);
    echo_result result;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            std::string msg(g_payload, 'x');
            result = co_await time_round_trips([&]() -> asio::awaitable<bool> {
                auto [sec] = co_await client.async_send(std::move(msg), use_tuple);
                if (sec)
                    co_return false;
                auto [rec, back] = co_await client.async_receive(use_tuple);
                if (rec || back.payload.size() != g_payload || back.text())
                    co_return false;
                msg = std::move(back.payload); // send the echoed string again: no copy per trip
                co_return true;
            });
            client.close();
        },
        asio::detached);
    run_bounded(ioc, "echo/session");
    return result;
}

echo_result echo_beast() {
    asio::io_context ioc(1);
    auto [a, b] = ws_pair(ioc);
    ws_stream server = std::move(a);
    ws_stream client = std::move(b);
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            beast::flat_buffer buf;
            for (;;) {
                auto [ec, n] = co_await server.async_read(buf, use_tuple);
                if (ec)
                    co_return;
                server.binary(server.got_binary());
                auto [wec, wn] = co_await server.async_write(buf.data(), use_tuple);
                if (wec)
                    co_return;
                buf.consume(n);
            }
        },
        asio::detached);
    echo_result result;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            const std::string payload(g_payload, 'x');
            beast::flat_buffer buf;
            result = co_await time_round_trips([&]() -> asio::awaitable<bool> {
                auto [wec, wn] = co_await client.async_write(asio::buffer(payload), use_tuple);
                if (wec)
                    co_return false;
                auto [rec, n] = co_await client.async_read(buf, use_tuple);
                if (rec || n != g_payload || !client.got_binary())
                    co_return false;
                buf.consume(n);
                co_return true;
            });
            co_await client.async_close(websocket::close_code::normal, use_tuple);
            // The server's read completes with websocket::error::closed once Beast answered
            // the close frame; drain our side until the peer closes the TCP connection.
            for (;;) {
                auto [ec, n] = co_await client.async_read(buf, use_tuple);
                if (ec)
                    break;
            }
        },
        asio::detached);
    run_bounded(ioc, "echo/beast");
    return result;
}

// ---- interleaved runner --------------------------------------------------------------------

struct contender {
    std::string name;
    std::function<echo_result()> run;
};

struct series {
    std::vector<double> rate, allocs;
};

// One discarded warm-up round, then `rounds` measured ones; the order reverses every round.
std::vector<series> interleave(const std::vector<contender>& cs, int rounds) {
    std::vector<series> out(cs.size());
    for (int r = -1; r < rounds; ++r) {
        std::printf("  %-8s", r < 0 ? "warm-up" : ("round " + std::to_string(r + 1)).c_str());
        std::vector<echo_result> got(cs.size());
        for (std::size_t k = 0; k < cs.size(); ++k) {
            const std::size_t i = (r % 2 == 0) ? k : cs.size() - 1 - k;
            got[i] = cs[i].run();
        }
        for (std::size_t i = 0; i < cs.size(); ++i) {
            std::printf("  %s %9.0f", cs[i].name.c_str(), got[i].rate);
            if (r >= 0) {
                out[i].rate.push_back(got[i].rate);
                out[i].allocs.push_back(got[i].allocs_per);
            }
        }
        std::printf("  round trips/s\n");
        std::fflush(stdout);
    }
    return out;
}

void run_echo(const options& o) {
    std::printf("\n== echo: %zu-byte binary WebSocket round trips/s, %d ms per trial ==\n",
                o.payload, o.echo_ms);
    const std::vector<contender> cs = {{"session", echo_session}, {"beast", echo_beast}};
    if (!o.only.empty()) {
        for (const auto& c : cs) {
            if (c.name != o.only)
                continue;
            const auto s = interleave({c}, o.rounds);
            std::printf("  median round trips/s: %s %.0f; operator-new calls per round trip "
                        "(both ends): %.2f\n",
                        c.name.c_str(), median(s[0].rate), median(s[0].allocs));
            return;
        }
        fail("no echo contender named " + o.only);
    }
    const auto s = interleave(cs, o.rounds);
    std::printf("  median round trips/s:  session %.0f  beast %.0f\n", median(s[0].rate),
                median(s[1].rate));
    std::printf("  operator-new calls per round trip (both ends):  session %.2f  beast %.2f\n",
                median(s[0].allocs), median(s[1].allocs));
    std::vector<double> ratios;
    for (std::size_t r = 0; r < s[0].rate.size(); ++r)
        ratios.push_back(s[0].rate[r] / s[1].rate[r]);
    if (ratios.empty())
        return;
    const double med = median(ratios);
    const auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
    std::printf("  ratio session / beast: median %.3f (min %.3f, max %.3f over %zu rounds)  "
                "target >= 0.97: %s\n",
                med, *lo, *hi, ratios.size(), med >= 0.97 ? "MET" : "MISSED");
}

// ============================================================================================
// Scenario 2: detection of a frozen peer process
// ============================================================================================

// The frozen peer: a plain Beast WebSocket echo server in a child process. Every connection
// keeps a read outstanding, so Beast answers every ping with a pong.
asio::awaitable<void> child_echo(tcp::socket socket) {
    ws_stream ws(std::move(socket));
    auto [aec] = co_await ws.async_accept(use_tuple);
    if (aec)
        co_return;
    beast::flat_buffer buf;
    for (;;) {
        auto [ec, n] = co_await ws.async_read(buf, use_tuple);
        if (ec)
            co_return;
        ws.binary(ws.got_binary());
        auto [wec, wn] = co_await ws.async_write(buf.data(), use_tuple);
        if (wec)
            co_return;
        buf.consume(n);
    }
}

[[noreturn]] void child_main(int listen_fd) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlive the harness
    asio::io_context ioc(1);
    tcp::acceptor acceptor(ioc, tcp::v4(), listen_fd);
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (;;) {
                auto [ec, s] = co_await acceptor.async_accept(use_tuple);
                if (ec)
                    co_return;
                s.set_option(tcp::no_delay(true));
                asio::co_spawn(ioc, child_echo(std::move(s)), asio::detached);
            }
        },
        asio::detached);
    ioc.run();
    _exit(0);
}

struct peer_process {
    pid_t pid = -1;
    unsigned short port = 0;
};

peer_process spawn_peer() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail(std::string("socket: ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 8) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        fail(std::string("listen on 127.0.0.1: ") + std::strerror(errno));
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0)
        fail(std::string("fork: ") + std::strerror(errno));
    if (pid == 0)
        child_main(fd);
    ::close(fd);
    return {pid, ntohs(addr.sin_port)};
}

// Thaws, ends and reaps the child, by PID.
void end_peer(peer_process& p) {
    if (p.pid <= 0)
        return;
    ::kill(p.pid, SIGCONT);
    ::kill(p.pid, SIGTERM);
    int status = 0;
    while (::waitpid(p.pid, &status, 0) < 0 && errno == EINTR) {
    }
    p.pid = -1;
}

struct freeze_result {
    double offset_ms = 0;   // SIGSTOP this long after one of our pongs
    double stop_gap_ms = 0; // kill(SIGSTOP) until waitpid(WUNTRACED) saw the child stopped
    bool ours_ok = false;
    double ours_silence = 0;    // verdict.silence / budget
    double ours_last_frame = 0; // (verdict instant - last pong seen through on_rtt) / budget
    double ours_detect_ms = 0;  // verdict instant - SIGSTOP instant
    unsigned ours_missed = 0;
    double ours_stalled_ms = 0; // verdict.stalled: our own process was stalled this long
    double max_gap_ms = 0;      // longest gap between two turns of this process's loop after
                                // the SIGSTOP; a long one means WE were descheduled
    bool beast_ok = false;
    double beast_silence = 0;   // (read failed - last inbound frame) / budget
    double beast_detect_ms = 0; // read failed - SIGSTOP instant
    std::string beast_error;
};

steady::time_point connect_tcp(tcp::socket& s, unsigned short port) {
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    s.set_option(tcp::no_delay(true));
    return steady::now();
}

freeze_result one_freeze(const options& o, std::mt19937_64& rng) {
    heartbeat::websocket_session_config cfg;
    cfg.heartbeat.interval = std::chrono::milliseconds(o.interval_ms);
    cfg.heartbeat.pong_timeout = std::chrono::milliseconds(o.pong_timeout_ms);
    cfg.heartbeat.max_missed = o.misses;
    cfg.heartbeat.jitter = o.jitter;
    const steady::duration budget = heartbeat::silence_budget(cfg.heartbeat);

    peer_process peer = spawn_peer();
    freeze_result r;
    {
        asio::io_context ioc(1);

        // Our client.
        std::optional<heartbeat::verdict> verdict;
        steady::time_point ours_verdict_seen{}, ours_last_pong{};
        int ours_pongs = 0;
        bool pong_flag = false;
        heartbeat::session_callbacks cb;
        cb.on_rtt = [&](heartbeat::duration, const heartbeat::rtt_estimator&) {
            ours_last_pong = steady::now();
            ++ours_pongs;
            pong_flag = true;
        };
        cb.on_verdict = [&](const heartbeat::verdict& v) {
            ours_verdict_seen = steady::now();
            verdict = v;
        };
        tcp::socket s1(ioc);
        connect_tcp(s1, peer.port);
        ws_stream w1(std::move(s1));
        w1.handshake("127.0.0.1:" + std::to_string(peer.port), "/");
        heartbeat::ws_session ours(std::move(w1), cfg, cb);
        bool ours_done = false;
        error_code ours_reason;
        ours.async_run([&](error_code ec) {
            ours_reason = ec;
            ours_done = true;
        });

        // Beast's own keep-alive, configured never to give up before the same silence.
        tcp::socket s2(ioc);
        connect_tcp(s2, peer.port);
        ws_stream bc(std::move(s2));
        websocket::stream_base::timeout opt{};
        opt.handshake_timeout = std::chrono::seconds(2);
        opt.idle_timeout = 2 * budget;
        opt.keep_alive_pings = true;
        bc.set_option(opt);
        steady::time_point beast_last_frame{}, beast_failed{};
        int beast_pongs = 0;
        bc.control_callback([&](websocket::frame_type kind, beast::string_view) {
            beast_last_frame = steady::now();
            if (kind == websocket::frame_type::pong)
                ++beast_pongs;
        });
        bool beast_done = false, beast_open = false;
        error_code beast_ec;
        beast::flat_buffer buf;
        bc.async_handshake("127.0.0.1:" + std::to_string(peer.port), "/", [&](error_code ec) {
            if (ec) {
                beast_ec = ec;
                beast_done = true;
                return;
            }
            beast_open = true;
            beast_last_frame = steady::now(); // the handshake response is its first inbound
            bc.async_read(buf, [&](error_code rec, std::size_t) {
                beast_failed = steady::now();
                beast_ec = rec;
                beast_done = true;
            });
        });

        steady::duration max_gap{};
        auto run_until = [&](auto done, steady::duration limit) {
            const auto end = steady::now() + limit;
            auto last = steady::now();
            while (!done() && steady::now() < end) {
                ioc.run_for(std::chrono::milliseconds(2));
                if (ioc.stopped())
                    ioc.restart();
                const auto now = steady::now();
                max_gap = std::max(max_gap, now - last);
                last = now;
            }
            return done();
        };

        // Warm-up of random length: the freeze lands at a random phase of Beast's timer.
        std::uniform_real_distribution<double> warm(1.0, 2.0);
        const auto warm_up =
            std::chrono::duration_cast<steady::duration>(warm(rng) * (opt.idle_timeout / 2));
        const auto warm_end = steady::now() + warm_up;
        if (!run_until(
                [&] { return steady::now() >= warm_end && ours_pongs >= 2 && beast_pongs >= 1; },
                std::chrono::seconds(10)))
            fail("freeze: clients did not get their first pongs within 10 s (ours " +
                 std::to_string(ours_pongs) + ", beast " + std::to_string(beast_pongs) + ")");
        if (ours_done || beast_done)
            fail("freeze: a client ended before the freeze");

        // Freeze at a random offset after one of our pongs.
        pong_flag = false;
        if (!run_until([&] { return pong_flag; }, std::chrono::seconds(5)))
            fail("freeze: no pong within 5 s");
        std::uniform_real_distribution<double> phase(0.0, 1.0);
        const auto offset = std::chrono::duration_cast<steady::duration>(
            phase(rng) * std::chrono::milliseconds(o.interval_ms));
        const auto stop_at = ours_last_pong + offset;
        run_until([&] { return steady::now() >= stop_at; }, std::chrono::seconds(5));
        const auto t_stop = steady::now();
        ::kill(peer.pid, SIGSTOP);
        int status = 0;
        while (::waitpid(peer.pid, &status, WUNTRACED) < 0 && errno == EINTR) {
        }
        if (!WIFSTOPPED(status))
            fail("freeze: the peer did not stop");
        r.stop_gap_ms = ms(steady::now() - t_stop);
        r.offset_ms = ms(t_stop - ours_last_pong);

        max_gap = {};
        const bool finished = run_until([&] { return ours_done && beast_done; },
                                        4 * budget + std::chrono::seconds(3));
        end_peer(peer);
        if (!finished)
            fail("freeze: a client did not notice the frozen peer within " +
                 std::to_string(ms(4 * budget + std::chrono::seconds(3))) + " ms");

        const double b = ms(budget);
        if (verdict && ours_reason == heartbeat::error::peer_dead) {
            r.ours_ok = true;
            r.ours_silence = ms(verdict->silence) / b;
            r.ours_last_frame = ms(verdict->at - ours_last_pong) / b;
            r.ours_detect_ms = ms(verdict->at - t_stop);
            r.ours_missed = verdict->missed;
            r.ours_stalled_ms = ms(verdict->stalled);
        }
        r.max_gap_ms = ms(max_gap);
        r.beast_error = beast_ec.message();
        if (beast_open && beast_ec == beast::error::timeout) {
            r.beast_ok = true;
            r.beast_silence = ms(beast_failed - beast_last_frame) / b;
            r.beast_detect_ms = ms(beast_failed - t_stop);
        }
    }
    end_peer(peer);
    return r;
}

struct distribution {
    double min = 0, median = 0, p90 = 0, max = 0;
};

distribution describe(std::vector<double> v) {
    distribution d;
    if (v.empty())
        return d;
    std::sort(v.begin(), v.end());
    d.min = v.front();
    d.max = v.back();
    d.median = median(v);
    d.p90 = v[static_cast<std::size_t>(0.9 * static_cast<double>(v.size() - 1) + 0.5)];
    return d;
}

void run_freeze(const options& o) {
    heartbeat::monitor_config hb;
    hb.interval = std::chrono::milliseconds(o.interval_ms);
    hb.pong_timeout = std::chrono::milliseconds(o.pong_timeout_ms);
    hb.max_missed = o.misses;
    const double budget = ms(heartbeat::silence_budget(hb));
    std::printf("\n== freeze: %d SIGSTOPs of a forked plain-Beast echo server process; ours: "
                "interval %d ms, pong timeout %d ms, %u misses, jitter %.2f => budget %.0f ms; "
                "beast: idle_timeout %.0f ms (2 x budget), keep_alive_pings; seed %u ==\n",
                o.freezes, o.interval_ms, o.pong_timeout_ms, o.misses, o.jitter, budget, 2 * budget,
                o.seed);
    std::mt19937_64 rng(o.seed);
    std::vector<freeze_result> rs;
    // A trial during which this process itself was descheduled (the VM's vCPU or the pinned
    // CPU taken away: its loop, which turns every 2 ms, stood still for more than
    // kStallLimitMs) measures that stall, not the detector: it is printed, discarded and run
    // again, at most freezes / 2 times.
    constexpr double kStallLimitMs = 50;
    int discarded = 0;
    for (int i = 0; static_cast<int>(rs.size()) < o.freezes; ++i) {
        const freeze_result r = one_freeze(o, rng);
        const bool stalled = r.max_gap_ms > kStallLimitMs || r.ours_stalled_ms > 0;
        std::printf("  freeze %2d  offset %5.1f ms (stop seen after %.2f ms, loop gap %.1f ms) | "
                    "session: ",
                    i + 1, r.offset_ms, r.stop_gap_ms, r.max_gap_ms);
        if (r.ours_ok)
            std::printf("silence/budget %.4f (last pong %.4f), missed %u, detected %6.1f ms",
                        r.ours_silence, r.ours_last_frame, r.ours_missed, r.ours_detect_ms);
        else
            std::printf("NO VERDICT");
        if (r.ours_stalled_ms > 0)
            std::printf(" (own stall %.1f ms)", r.ours_stalled_ms);
        std::printf(" | beast: ");
        if (r.beast_ok)
            std::printf("silence/budget %.4f, detected %6.1f ms", r.beast_silence,
                        r.beast_detect_ms);
        else
            std::printf("NO TIMEOUT (%s)", r.beast_error.c_str());
        if (stalled && discarded < o.freezes / 2) {
            ++discarded;
            std::printf("  DISCARDED: this process was descheduled during detection\n");
        } else {
            rs.push_back(r);
            std::printf("\n");
        }
        std::fflush(stdout);
    }
    std::vector<double> os, of, od, bs, bd;
    int ours_in = 0, ours_ok = 0, beast_ok = 0;
    for (const auto& r : rs) {
        if (r.ours_ok) {
            ++ours_ok;
            os.push_back(r.ours_silence);
            of.push_back(r.ours_last_frame);
            od.push_back(r.ours_detect_ms);
            if (r.ours_silence >= 1.0 && r.ours_silence <= 1.05)
                ++ours_in;
        }
        if (r.beast_ok) {
            ++beast_ok;
            bs.push_back(r.beast_silence);
            bd.push_back(r.beast_detect_ms);
        }
    }
    const auto p = [](const char* what, const distribution& d, const char* unit) {
        const bool in_ms = std::strcmp(unit, "ms") == 0;
        std::printf(in_ms ? "  %-44s min %8.1f  median %8.1f  p90 %8.1f  max %8.1f %s\n"
                          : "  %-44s min %8.4f  median %8.4f  p90 %8.4f  max %8.4f%s\n",
                    what, d.min, d.median, d.p90, d.max, unit);
    };
    std::printf("  verdicts: session %d/%d (peer_dead), beast %d/%d (beast::error::timeout); "
                "%d trial(s) discarded and rerun (own process descheduled > %.0f ms)\n",
                ours_ok, o.freezes, beast_ok, o.freezes, discarded, kStallLimitMs);
    p("session silence / budget (verdict.silence)", describe(os), "");
    p("session silence / budget (since last pong)", describe(of), "");
    p("beast silence / budget (since last frame)", describe(bs), "");
    p("session detection from SIGSTOP", describe(od), "ms");
    p("beast detection from SIGSTOP", describe(bd), "ms");
    std::printf("  session verdicts with silence/budget in [1.0, 1.05]: %d/%d  target every one: "
                "%s\n",
                ours_in, o.freezes, ours_in == o.freezes ? "MET" : "MISSED");
    if (!od.empty() && !bd.empty())
        std::printf("  median detection: session %.1f ms, beast %.1f ms (beast / session %.2f)\n",
                    median(od), median(bd), median(bd) / median(od));
}

// ============================================================================================
// Scenario 3: memory per idle WebSocket pair
// ============================================================================================

// Connects n TCP pairs and upgrades them all at once on `ioc` (server end first in `out`).
void upgrade_pairs(asio::io_context& ioc, std::vector<tcp::socket>& sockets,
                   std::vector<ws_stream>& out) {
    for (auto& s : sockets)
        out.emplace_back(std::move(s));
    std::size_t done = 0, failed = 0;
    for (std::size_t i = 0; i < out.size(); i += 2) {
        out[i].async_accept([&](error_code ec) { ++done, failed += !!ec; });
        out[i + 1].async_handshake("127.0.0.1", "/",
                                   [&](error_code ec) { ++done, failed += !!ec; });
    }
    const auto deadline = steady::now() + std::chrono::seconds(30);
    while (done < out.size()) {
        settle(ioc, std::chrono::milliseconds(5));
        if (steady::now() > deadline)
            fail("memory: WebSocket handshakes did not finish within 30 s");
    }
    if (failed)
        fail("memory: " + std::to_string(failed) + " WebSocket handshakes failed");
    for (auto& ws : out)
        ws.binary(true);
}

int g_mem_idle_ms = 2500;
bool g_mem_shared_config = true;

mem_result mem_session_child(std::size_t n) {
    asio::io_context ioc(1);
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::vector<tcp::socket> sockets;
    sockets.reserve(2 * n);
    std::vector<ws_stream> streams;
    streams.reserve(2 * n);
    std::vector<std::unique_ptr<heartbeat::ws_session>> sessions;
    sessions.reserve(2 * n);
    malloc_trim(0);
    const auto s0 = snapshot_now();
    connect_pairs(ioc, acceptor, sockets, n);
    const auto s1 = snapshot_now();
    upgrade_pairs(ioc, sockets, streams);
    // Sessions share one config (as a server's do) unless --mem-config=own: each its own copy.
    const auto shared = std::make_shared<const heartbeat::websocket_session_config>();
    for (auto& ws : streams)
        sessions.push_back(g_mem_shared_config
                               ? std::make_unique<heartbeat::ws_session>(std::move(ws), shared)
                               : std::make_unique<heartbeat::ws_session>(std::move(ws)));
    const auto s2 = snapshot_now();
    std::size_t ended = 0;
    for (auto& s : sessions)
        s->async_run([&](error_code) { ++ended; });
    run_until_all_alive(ioc, sessions, ended, "memory/session"); // then everything idles
    settle(ioc, std::chrono::milliseconds(100));
    const auto s3 = snapshot_now();
    exit_here_when_profiling();
    settle(ioc, std::chrono::milliseconds(g_mem_idle_ms));
    expect_all_alive(sessions, "memory/session");
    const auto s4 = snapshot_now();
    return per_pair(s0, s1, s2, s3, s4, n);
}

// One plain Beast end: its stream and the buffer of the read it keeps outstanding.
struct beast_end {
    ws_stream ws;
    beast::flat_buffer buffer;
    bool failed = false;
    explicit beast_end(ws_stream s) : ws(std::move(s)) {
        websocket::stream_base::timeout t{};
        t.handshake_timeout = std::chrono::seconds(30);
        t.idle_timeout = std::chrono::seconds(4);
        t.keep_alive_pings = true;
        ws.set_option(t);
    }
    void read() {
        ws.async_read(buffer, [this](error_code ec, std::size_t n) {
            if (ec) {
                failed = true;
                return;
            }
            buffer.consume(n);
            read();
        });
    }
};

mem_result mem_beast_child(std::size_t n) {
    asio::io_context ioc(1);
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::vector<tcp::socket> sockets;
    sockets.reserve(2 * n);
    std::vector<ws_stream> streams;
    streams.reserve(2 * n);
    std::vector<std::unique_ptr<beast_end>> ends;
    ends.reserve(2 * n);
    malloc_trim(0);
    const auto s0 = snapshot_now();
    connect_pairs(ioc, acceptor, sockets, n);
    const auto s1 = snapshot_now();
    upgrade_pairs(ioc, sockets, streams);
    for (auto& ws : streams)
        ends.push_back(std::make_unique<beast_end>(std::move(ws)));
    const auto s2 = snapshot_now();
    for (auto& e : ends)
        e->read();
    settle(ioc, std::chrono::milliseconds(5));
    settle(ioc, std::chrono::milliseconds(100));
    const auto s3 = snapshot_now();
    exit_here_when_profiling();
    settle(ioc, std::chrono::milliseconds(g_mem_idle_ms));
    for (auto& e : ends)
        if (e->failed)
            fail("memory/beast: a read failed while idle");
    const auto s4 = snapshot_now();
    return per_pair(s0, s1, s2, s3, s4, n);
}

void run_memory(const options& o) {
    std::printf("\n== memory: %zu idle connected WebSocket pairs (both ends in this process, "
                "after the handshake); ours: default config (2 s interval), %s; beast: "
                "idle_timeout 4 s with keep-alive pings ==\n",
                o.pairs, o.mem_shared_config ? "one shared" : "a copy per session");
    std::printf("  sizeof: ws_session %zu, ws_stream %zu\n", sizeof(heartbeat::ws_session),
                sizeof(ws_stream));
    raise_nofile(o.pairs);
    if (!o.only.empty()) { // profiling aid: one contender, in this process, no ratios
        const mem_result m =
            o.only == "session" ? mem_session_child(o.pairs) : mem_beast_child(o.pairs);
        std::printf("  %s per pair: RSS %.0f B (sockets %.0f, objects %.0f, running %.0f)  heap "
                    "%.0f B (sockets %.0f, objects %.0f, running %.0f)\n",
                    o.only.c_str(), m.rss, m.rss_sockets, m.rss_objects, m.rss_running, m.heap,
                    m.heap_sockets, m.heap_objects, m.heap_running);
        return;
    }
    compare_memory(
        "session", [n = o.pairs] { return mem_session_child(n); }, "beast",
        [n = o.pairs] { return mem_beast_child(n); }, o.mem_rounds, o.mem_idle_ms, 1.2);
}

} // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    g_echo_seconds = o.echo_ms / 1000.0;
    g_echo_trips = o.echo_trips;
    g_payload = o.payload;
    signal(SIGPIPE, SIG_IGN);
    pin(o.cpu);
    std::printf("e2e_websocket_vs_beast: pinned to CPU %d (sched_setaffinity, one thread; the "
                "freeze scenario's child inherits the pinning); nproc %ld; one io_context "
                "(concurrency hint 1) per trial drives both ends\n",
                o.cpu, sysconf(_SC_NPROCESSORS_ONLN));
    const auto t0 = steady::now();
    const bool all = o.scenario == "all";
    if (all || o.scenario == "echo")
        run_echo(o);
    if (all || o.scenario == "freeze")
        run_freeze(o);
    if (all || o.scenario == "memory") {
        g_mem_idle_ms = o.mem_idle_ms;
        g_mem_shared_config = o.mem_shared_config;
        run_memory(o);
    }
    std::printf("\ntotal %.1f s\n", seconds_since(t0));
    return 0;
}
