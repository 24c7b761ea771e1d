// End to end: heartbeat::tcp_session against raw Asio C++20 coroutines on the same workload, in
// one process invocation, at the same CPU pinning. Every scenario runs its contenders
// interleaved (round r runs A, B, C then the next round runs C, B, A, so slow drift cancels),
// each trial on a fresh io_context, and reports the median of the per-round ratios: on a shared
// 2-core machine absolute rates wander by tens of percent between seconds, ratios of adjacent
// trials much less.
//
// Scenarios (all on 127.0.0.1 TCP, TCP_NODELAY on every socket, both ends of every connection
// driven by ONE single-threaded io_context -- concurrency hint 1 -- for every contender):
//   echo    64-byte echo round trips/s. session: client async_send + async_receive, server
//           async_receive + async_send (the received string is moved back, no extra copies).
//           raw: 4-byte big-endian length + 64 B, coroutines. Two raw flavours:
//             raw      buffered reader (async_read_some into a 4 KiB buffer, parse, one gathered
//                      async_write per message): the strongest simple baseline, same syscall
//                      pattern as the session's reader;
//             raw_2rd  the textbook one: async_read(header) then async_read(body).
//           Target: session >= 0.95x raw.
//   stream  64-byte one-way messages/s, client sends N as fast as it can, server counts.
//             session     co_await async_send per message;
//             session_w64 app keeps up to 64 async_send outstanding;
//             raw         co_await async_write per message, buffered counting reader;
//             raw_2rd     same writer, async_read(header) + async_read(body) reader.
//           Target: session >= 0.8x raw.
//   memory  N idle connected pairs of sessions (default config: 2 s interval, 10 % jitter; one
//           config shared by all, as a server's sessions share theirs; --mem-config=own gives
//           each session its own copy) versus N pairs of raw socket + steady_timer ends (a reader
//           coroutine with a read pending on a 64-byte buffer, a pinger coroutine with the 2 s
//           timer armed). Every measurement runs in a fork()ed child so each starts from the same
//           clean heap; reported per connection pair: RSS delta (/proc/self/statm), heap bytes in
//           use (mallinfo2), kernel Slab delta (/proc/meminfo, global, so noisy) and the delta of
//           the socket-specific slab caches (/proc/slabinfo, needs root). Target: <= 1.2x raw.
//
//   echo_metrics (not in `all`) the echo with the sessions' metrics on vs off, interleaved.
//           Target: on >= 0.98x off. --metrics-interval-ms=N shortens the heartbeat interval so
//           probe pings (and their metrics) run during the echo.
//
//   server_echo (not in `all`) the echo through a tcp_server with echo on (the server's
//           receive chain and echo path), against the session-to-session echo and raw Asio.
//           No target: a figure, for before/after comparisons of the server.
//
// Usage: e2e_session_vs_asio [--scenario=all|echo|stream|memory|echo_metrics|server_echo]
//          [--metrics=on|off] [--metrics-interval-ms=N] [--cpu=1] [--rounds=7]
//          [--echo-ms=250] [--stream-msgs=40000] [--window=64] [--payload=64]
//          [--pairs=2000] [--mem-rounds=3] [--mem-idle-ms=2500] [--mem-interval-ms=2000]
//        Profiling aids: --only=CONTENDER runs one contender alone (no ratios; memory: in
//        process, no fork), --echo-trips=N times a fixed number of round trips.
//        The defaults finish in about 40 s on a 2-core VM.
#include <heartbeat/core/heartbeat_monitor.hpp>
#include <heartbeat/core/rtt_estimator.hpp>
#include <heartbeat/metrics/registry.hpp>
#include <heartbeat/protocol/native/native_session.hpp>
#include <heartbeat/server/server.hpp>
#include <heartbeat/session/session_core.hpp> // only for sizeof(the session core)

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <new>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.hpp"
#include "harness_memory.hpp"

// ---- sizeof the session's run state: the session core, its link and profile ----

namespace probe {
inline std::size_t run_loops_size() {
    return sizeof(heartbeat::detail::session_core<heartbeat::tcp_session::link_type>);
}
} // namespace probe

namespace {

using namespace e2e;

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using boost::system::error_code;
constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// ---- options -------------------------------------------------------------------------------

struct options {
    std::string scenario = "all";
    bool metrics = false;        // --metrics=on|off: sessions report into a metrics registry
    int metrics_interval_ms = 0; // --metrics-interval-ms: echo_metrics' heartbeat interval
    int cpu = 1;
    int rounds = 7; // measured rounds per throughput scenario (plus one discarded warm-up)
    int echo_ms = 250;
    std::size_t echo_trips = 0; // profiling aid: a fixed number of round trips instead of echo_ms
    std::size_t stream_msgs = 40000;
    std::size_t window = 64;
    std::size_t payload = 64;
    std::size_t pairs = 2000;
    int mem_rounds = 3;
    int mem_idle_ms = 2500;        // second memory reading after this much idle (past the 1st ping)
    int mem_interval_ms = 2000;    // heartbeat interval of the idle pairs (session and raw alike)
    bool mem_shared_config = true; // the idle sessions share one config (--mem-config=own: not)
    std::string only;              // profiling aid: run just this contender (no ratios)
};

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto eq = a.find('=');
        const std::string key = a.substr(0, eq);
        const std::string val = eq == std::string::npos ? "" : a.substr(eq + 1);
        if (key == "--scenario")
            o.scenario = val;
        else if (key == "--metrics" && (val == "on" || val == "off"))
            o.metrics = val == "on";
        else if (key == "--metrics-interval-ms")
            o.metrics_interval_ms = std::stoi(val);
        else if (key == "--cpu")
            o.cpu = std::stoi(val);
        else if (key == "--rounds")
            o.rounds = std::stoi(val);
        else if (key == "--echo-ms")
            o.echo_ms = std::stoi(val);
        else if (key == "--echo-trips")
            o.echo_trips = std::stoul(val);
        else if (key == "--stream-msgs")
            o.stream_msgs = std::stoul(val);
        else if (key == "--window")
            o.window = std::stoul(val);
        else if (key == "--payload")
            o.payload = std::stoul(val);
        else if (key == "--pairs")
            o.pairs = std::stoul(val);
        else if (key == "--mem-rounds")
            o.mem_rounds = std::stoi(val);
        else if (key == "--mem-idle-ms")
            o.mem_idle_ms = std::stoi(val);
        else if (key == "--mem-interval-ms")
            o.mem_interval_ms = std::stoi(val);
        else if (key == "--mem-config" && (val == "own" || val == "shared"))
            o.mem_shared_config = val == "shared";
        else if (key == "--only")
            o.only = val;
        else {
            std::fprintf(
                stderr,
                "usage: %s [--scenario=all|echo|stream|memory|echo_metrics|server_echo] "
                "[--metrics=on|off] "
                "[--metrics-interval-ms=N] [--cpu=N] [--rounds=N] "
                "[--echo-ms=N] [--echo-trips=N] [--stream-msgs=N] [--window=N] [--payload=N] "
                "[--pairs=N] [--mem-rounds=N] [--mem-idle-ms=N] [--mem-interval-ms=N] "
                "[--mem-config=shared|own] "
                "[--only=CONTENDER]\n",
                argv[0]);
            std::exit(2);
        }
    }
    return o;
}

// ---- sockets ---------------------------------------------------------------------------------

// --metrics=on: every session reports into one registry (both ends share a series, as the
// sessions of one peer host do on a server). The echo_metrics scenario flips it per contender.
bool g_metrics = false;
int g_metrics_interval_ms = 0; // echo_metrics: heartbeat interval (0 = the default 2 s)
const std::shared_ptr<heartbeat::metrics::registry> g_registry =
    heartbeat::metrics::registry::create();

heartbeat::session_config session_cfg() {
    heartbeat::session_config c; // defaults: 2 s interval, 10 % jitter, 2 s pong timeout
    if (g_metrics_interval_ms > 0) {
        c.heartbeat.interval = std::chrono::milliseconds(g_metrics_interval_ms);
        c.heartbeat.pong_timeout = std::chrono::milliseconds(std::max(g_metrics_interval_ms, 200));
    }
    if (g_metrics) {
        c.metrics = g_registry;
        c.metrics_labels = std::make_shared<const heartbeat::metrics::series_labels>(
            heartbeat::metrics::series_labels{"client", "native", "bench", ""});
    }
    return c;
}

// ---- raw length-prefixed framing -----------------------------------------------------------

void put_be32(std::uint8_t* p, std::uint32_t v) {
    p[0] = static_cast<std::uint8_t>(v >> 24);
    p[1] = static_cast<std::uint8_t>(v >> 16);
    p[2] = static_cast<std::uint8_t>(v >> 8);
    p[3] = static_cast<std::uint8_t>(v);
}
std::uint32_t get_be32(const std::uint8_t* p) {
    return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
           std::uint32_t{p[3]};
}

// Buffered reader: one async_read_some per arrival, frames parsed out of a 4 KiB buffer (grown
// only for a frame larger than it).
struct frame_reader {
    tcp::socket& socket;
    std::vector<std::uint8_t> buf = std::vector<std::uint8_t>(4096);
    std::size_t begin = 0, end = 0;

    // The payload view stays valid until the next call.
    asio::awaitable<std::pair<error_code, std::span<const std::uint8_t>>> next() {
        for (;;) {
            if (end - begin >= 4) {
                const std::size_t len = get_be32(buf.data() + begin);
                if (end - begin >= 4 + len) {
                    std::span<const std::uint8_t> p(buf.data() + begin + 4, len);
                    begin += 4 + len;
                    if (begin == end)
                        begin = end = 0;
                    co_return std::pair{error_code{}, p};
                }
                if (4 + len > buf.size() - begin) {
                    std::copy(buf.begin() + begin, buf.begin() + end, buf.begin());
                    end -= begin;
                    begin = 0;
                    if (4 + len > buf.size())
                        buf.resize(4 + len);
                }
            } else if (buf.size() - end < 4) {
                std::copy(buf.begin() + begin, buf.begin() + end, buf.begin());
                end -= begin;
                begin = 0;
            }
            auto [ec, n] = co_await socket.async_read_some(
                asio::buffer(buf.data() + end, buf.size() - end), use_tuple);
            if (ec)
                co_return std::pair{ec, std::span<const std::uint8_t>{}};
            end += n;
        }
    }
};

// Textbook reader: exact header read, exact body read.
asio::awaitable<error_code> read_exact(tcp::socket& s, std::array<std::uint8_t, 4>& hdr,
                                       std::vector<std::uint8_t>& body, std::size_t& len) {
    auto [e1, n1] = co_await asio::async_read(s, asio::buffer(hdr), use_tuple);
    if (e1)
        co_return e1;
    len = get_be32(hdr.data());
    if (len > body.size())
        body.resize(len);
    auto [e2, n2] = co_await asio::async_read(s, asio::buffer(body.data(), len), use_tuple);
    co_return e2;
}

// ============================================================================================
// Scenario 1: echo round trips
// ============================================================================================

std::size_t g_payload = 64;

asio::awaitable<void> session_echo_server(heartbeat::tcp_session& s) {
    for (;;) {
        auto [ec, msg] = co_await s.async_receive(use_tuple);
        if (ec)
            co_return;
        auto [sec] = co_await s.async_send(std::move(msg), use_tuple);
        if (sec)
            co_return;
    }
}

// Times `client`'s echo round trips on `ioc` (whatever echoes them), then closes it and calls
// `after()`.
template <class After = void (*)()>
echo_result time_session_echo(
    asio::io_context& ioc, heartbeat::tcp_session& client, const char* what, After after = [] {}) {
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
                if (rec || back.size() != g_payload)
                    co_return false;
                msg = std::move(back); // send the echoed string again: no copy per trip
                co_return true;
            });
            client.close();
            after();
        },
        asio::detached);
    run_bounded(ioc, what);
    return result;
}

echo_result echo_session() {
    asio::io_context ioc(1);
    auto [a, b] = tcp_pair(ioc);
    heartbeat::tcp_session server(std::move(a), session_cfg());
    heartbeat::tcp_session client(std::move(b), session_cfg());
    server.async_run(asio::detached);
    client.async_run(asio::detached);
    asio::co_spawn(ioc, session_echo_server(server), asio::detached);
    return time_session_echo(ioc, client, "echo/session");
}

// The same round trips through a tcp_server with echo on: the server's own receive and echo
// path (its per-peer receive chain), which the session-to-session echo does not cover.
echo_result echo_through_server() {
    asio::io_context ioc(1);
    heartbeat::server_config sc;
    sc.session = session_cfg();
    sc.echo = true;
    heartbeat::tcp_server server(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), sc);
    server.async_run(asio::detached);
    tcp::socket socket(ioc);
    socket.connect(server.local_endpoint());
    set_nodelay(socket);
    heartbeat::tcp_session client(std::move(socket), session_cfg());
    client.async_run(asio::detached);
    return time_session_echo(ioc, client, "echo/server", [&] { server.close(); });
}

echo_result echo_raw_buffered() {
    asio::io_context ioc(1);
    auto [a, b] = tcp_pair(ioc);
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            frame_reader in{a};
            std::array<std::uint8_t, 4> hdr{};
            for (;;) {
                auto [ec, p] = co_await in.next();
                if (ec)
                    co_return;
                put_be32(hdr.data(), static_cast<std::uint32_t>(p.size()));
                const std::array<asio::const_buffer, 2> out{asio::buffer(hdr),
                                                            asio::buffer(p.data(), p.size())};
                auto [wec, wn] = co_await asio::async_write(a, out, use_tuple);
                if (wec)
                    co_return;
            }
        },
        asio::detached);
    echo_result result;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            frame_reader in{b};
            std::array<std::uint8_t, 4> hdr{};
            put_be32(hdr.data(), static_cast<std::uint32_t>(g_payload));
            std::vector<std::uint8_t> payload(g_payload, 'x');
            const std::array<asio::const_buffer, 2> out{asio::buffer(hdr), asio::buffer(payload)};
            result = co_await time_round_trips([&]() -> asio::awaitable<bool> {
                auto [wec, wn] = co_await asio::async_write(b, out, use_tuple);
                if (wec)
                    co_return false;
                auto [rec, p] = co_await in.next();
                co_return !rec && p.size() == g_payload;
            });
            b.close();
        },
        asio::detached);
    run_bounded(ioc, "echo/raw");
    return result;
}

echo_result echo_raw_two_reads() {
    asio::io_context ioc(1);
    auto [a, b] = tcp_pair(ioc);
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            std::array<std::uint8_t, 4> hdr{};
            std::vector<std::uint8_t> body(4096);
            for (;;) {
                std::size_t len = 0;
                if (co_await read_exact(a, hdr, body, len))
                    co_return;
                const std::array<asio::const_buffer, 2> out{asio::buffer(hdr),
                                                            asio::buffer(body.data(), len)};
                auto [wec, wn] = co_await asio::async_write(a, out, use_tuple);
                if (wec)
                    co_return;
            }
        },
        asio::detached);
    echo_result result;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            std::array<std::uint8_t, 4> hdr{}, rhdr{};
            put_be32(hdr.data(), static_cast<std::uint32_t>(g_payload));
            std::vector<std::uint8_t> payload(g_payload, 'x'), body(4096);
            const std::array<asio::const_buffer, 2> out{asio::buffer(hdr), asio::buffer(payload)};
            result = co_await time_round_trips([&]() -> asio::awaitable<bool> {
                auto [wec, wn] = co_await asio::async_write(b, out, use_tuple);
                if (wec)
                    co_return false;
                std::size_t len = 0;
                if (co_await read_exact(b, rhdr, body, len))
                    co_return false;
                co_return len == g_payload;
            });
            b.close();
        },
        asio::detached);
    run_bounded(ioc, "echo/raw_2rd");
    return result;
}

// ============================================================================================
// Scenario 2: one-way streaming
// ============================================================================================

struct stream_result {
    double rate = 0; // messages per second, first send to last message counted
    double allocs_per = 0;
};

std::size_t g_stream_msgs = 40000;
std::size_t g_window = 64;

stream_result stream_session(bool windowed) {
    asio::io_context ioc(1);
    auto [a, b] = tcp_pair(ioc);
    heartbeat::tcp_session server(std::move(a), session_cfg());
    heartbeat::tcp_session client(std::move(b), session_cfg());
    server.async_run(asio::detached);
    client.async_run(asio::detached);
    const std::size_t total = g_stream_msgs;
    steady::time_point t0{};
    std::uint64_t calls0 = 0;
    stream_result result;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            std::size_t count = 0;
            for (;;) {
                auto [ec, msg] = co_await server.async_receive(use_tuple);
                if (ec)
                    fail("stream/session: receive failed: " + ec.message());
                if (msg.size() != g_payload)
                    fail("stream/session: wrong size");
                if (++count == total)
                    break;
            }
            result.rate = static_cast<double>(total) / seconds_since(t0);
            result.allocs_per =
                static_cast<double>(alloc_count::calls - calls0) / static_cast<double>(total);
            client.close();
        },
        asio::detached);
    const std::string payload(g_payload, 'x');
    std::size_t sent = 0, outstanding = 0;
    std::function<void()> pump = [&] {
        while (outstanding < g_window && sent < total) {
            ++outstanding;
            ++sent;
            client.async_send(payload, [&](error_code ec) {
                if (ec)
                    fail("stream/session_w: send failed: " + ec.message());
                --outstanding;
                pump();
            });
        }
    };
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            // Let the HELLO exchange finish first so the clock times only the stream.
            auto [ec] = co_await client.async_send(payload, use_tuple);
            if (ec)
                fail("stream/session: first send failed: " + ec.message());
            sent = 1;
            calls0 = alloc_count::calls;
            t0 = steady::now();
            if (windowed) {
                pump();
                co_return;
            }
            for (; sent < total; ++sent) {
                auto [sec] = co_await client.async_send(payload, use_tuple);
                if (sec)
                    fail("stream/session: send failed: " + sec.message());
            }
        },
        asio::detached);
    run_bounded(ioc, windowed ? "stream/session_w" : "stream/session");
    return result;
}

stream_result stream_raw(bool buffered_reader) {
    asio::io_context ioc(1);
    auto [a, b] = tcp_pair(ioc);
    const std::size_t total = g_stream_msgs;
    steady::time_point t0{};
    std::uint64_t calls0 = 0;
    stream_result result;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            std::size_t count = 0;
            if (buffered_reader) {
                frame_reader in{a};
                while (count < total) {
                    auto [ec, p] = co_await in.next();
                    if (ec || p.size() != g_payload)
                        fail("stream/raw: read failed");
                    ++count;
                }
            } else {
                std::array<std::uint8_t, 4> hdr{};
                std::vector<std::uint8_t> body(4096);
                while (count < total) {
                    std::size_t len = 0;
                    if (co_await read_exact(a, hdr, body, len) || len != g_payload)
                        fail("stream/raw_2rd: read failed");
                    ++count;
                }
            }
            result.rate = static_cast<double>(total) / seconds_since(t0);
            result.allocs_per =
                static_cast<double>(alloc_count::calls - calls0) / static_cast<double>(total);
        },
        asio::detached);
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            std::array<std::uint8_t, 4> hdr{};
            put_be32(hdr.data(), static_cast<std::uint32_t>(g_payload));
            std::vector<std::uint8_t> payload(g_payload, 'x');
            const std::array<asio::const_buffer, 2> out{asio::buffer(hdr), asio::buffer(payload)};
            calls0 = alloc_count::calls;
            t0 = steady::now();
            for (std::size_t i = 0; i < total; ++i) {
                auto [ec, n] = co_await asio::async_write(b, out, use_tuple);
                if (ec)
                    fail("stream/raw: write failed: " + ec.message());
            }
        },
        asio::detached);
    run_bounded(ioc, "stream/raw");
    return result;
}

// ---- interleaved runner --------------------------------------------------------------------

struct contender {
    std::string name;
    std::function<std::pair<double, double>()> run; // {rate, allocations per unit}
};

struct series {
    std::vector<double> rate, allocs;
};

// One discarded warm-up round, then `rounds` measured ones; the order reverses every round.
std::vector<series> interleave(const std::vector<contender>& cs, int rounds, const char* unit) {
    std::vector<series> out(cs.size());
    for (int r = -1; r < rounds; ++r) {
        std::printf("  %-8s", r < 0 ? "warm-up" : ("round " + std::to_string(r + 1)).c_str());
        std::vector<std::pair<double, double>> got(cs.size());
        for (std::size_t k = 0; k < cs.size(); ++k) {
            const std::size_t i = (r % 2 == 0) ? k : cs.size() - 1 - k;
            got[i] = cs[i].run();
        }
        for (std::size_t i = 0; i < cs.size(); ++i) {
            std::printf("  %s %9.0f", cs[i].name.c_str(), got[i].first);
            if (r >= 0) {
                out[i].rate.push_back(got[i].first);
                out[i].allocs.push_back(got[i].second);
            }
        }
        std::printf("  %s\n", unit);
        std::fflush(stdout);
    }
    return out;
}

void summarize(const std::vector<contender>& cs, const std::vector<series>& s,
               const std::vector<std::size_t>& subjects, const std::vector<std::size_t>& baselines,
               double target, std::size_t target_subject, std::size_t target_baseline,
               const char* unit) {
    std::printf("  median %s:", unit);
    for (std::size_t i = 0; i < cs.size(); ++i)
        std::printf("  %s %.0f", cs[i].name.c_str(), median(s[i].rate));
    std::printf("\n  operator-new calls per unit (both ends):");
    for (std::size_t i = 0; i < cs.size(); ++i)
        std::printf("  %s %.2f", cs[i].name.c_str(), median(s[i].allocs));
    std::printf("\n");
    for (const std::size_t su : subjects) {
        for (const std::size_t b : baselines) {
            std::vector<double> ratios;
            for (std::size_t r = 0; r < s[su].rate.size(); ++r)
                ratios.push_back(s[su].rate[r] / s[b].rate[r]);
            const double med = median(ratios);
            const auto [lo, hi] = std::minmax_element(ratios.begin(), ratios.end());
            std::printf("  ratio %s / %s: median %.3f (min %.3f, max %.3f over %zu rounds)",
                        cs[su].name.c_str(), cs[b].name.c_str(), med, *lo, *hi, ratios.size());
            if (su == target_subject && b == target_baseline)
                std::printf("  target >= %.2f: %s", target, med >= target ? "MET" : "MISSED");
            std::printf("\n");
        }
    }
}

// --only=NAME: time one contender alone (for perf/strace/callgrind); no ratios.
bool run_only(const options& o, const std::vector<contender>& cs, const char* unit) {
    if (o.only.empty())
        return false;
    for (const auto& c : cs) {
        if (c.name != o.only)
            continue;
        const auto s = interleave({c}, o.rounds, unit);
        summarize({c}, s, {}, {}, 0, 0, 0, unit);
        return true;
    }
    std::printf("  (no contender named %s here)\n", o.only.c_str());
    return true;
}

contender echo_contender(const char* name, echo_result (*echo)()) {
    return {name, [echo] {
                const auto r = echo();
                return std::pair{r.rate, r.allocs_per};
            }};
}

void run_echo(const options& o) {
    std::printf("\n== echo: %zu-byte round trips/s, %d ms per trial ==\n", o.payload, o.echo_ms);
    const std::vector<contender> cs = {echo_contender("session", echo_session),
                                       echo_contender("raw", echo_raw_buffered),
                                       echo_contender("raw_2rd", echo_raw_two_reads)};
    if (run_only(o, cs, "round trips/s"))
        return;
    const auto s = interleave(cs, o.rounds, "round trips/s");
    summarize(cs, s, {0}, {1, 2}, 0.95, 0, 1, "round trips/s");
}

// Round trips through a tcp_server (echo on) against the session-to-session echo and raw Asio.
void run_server_echo(const options& o) {
    std::printf(
        "\n== server_echo: %zu-byte round trips/s through a tcp_server, %d ms per trial ==\n",
        o.payload, o.echo_ms);
    const std::vector<contender> cs = {echo_contender("server", echo_through_server),
                                       echo_contender("session", echo_session),
                                       echo_contender("raw", echo_raw_buffered)};
    if (run_only(o, cs, "round trips/s"))
        return;
    const auto s = interleave(cs, o.rounds, "round trips/s");
    summarize(cs, s, {0}, {1, 2}, 0, cs.size(), 0, "round trips/s"); // no target: a figure
}

// The same echo with the sessions' metrics on and off, interleaved: what reporting costs.
// With --metrics-interval-ms=N the heartbeat runs every N ms during the echo (probe pings under
// traffic), so the metrics path is exercised, not only configured.
void run_echo_metrics(const options& o) {
    std::printf("\n== echo_metrics: %zu-byte round trips/s, %d ms per trial, metrics on vs off, "
                "heartbeat interval %s ==\n",
                o.payload, o.echo_ms,
                o.metrics_interval_ms > 0 ? (std::to_string(o.metrics_interval_ms) + " ms").c_str()
                                          : "2 s (default)");
    g_metrics_interval_ms = o.metrics_interval_ms;
    const auto with_metrics = [](bool on) {
        return [on] {
            g_metrics = on;
            auto r = echo_session();
            g_metrics = false;
            return std::pair{r.rate, r.allocs_per};
        };
    };
    const std::vector<contender> cs = {{"metrics_on", with_metrics(true)},
                                       {"metrics_off", with_metrics(false)}};
    if (run_only(o, cs, "round trips/s"))
        return;
    const auto s = interleave(cs, o.rounds, "round trips/s");
    summarize(cs, s, {0}, {1}, 0.98, 0, 1, "round trips/s");
    const auto snap = g_registry->snapshot();
    for (const auto& x : snap.series)
        std::printf("  metrics reported: pings %llu pongs %llu rtt samples %llu\n",
                    static_cast<unsigned long long>(x.pings_sent),
                    static_cast<unsigned long long>(x.pongs_received),
                    static_cast<unsigned long long>(x.rtt_seconds.count()));
    g_metrics_interval_ms = 0;
}

void run_stream(const options& o) {
    std::printf("\n== stream: %zu-byte one-way messages/s, %zu messages per trial ==\n", o.payload,
                o.stream_msgs);
    const std::vector<contender> cs = {
        {"session",
         [] {
             auto r = stream_session(false);
             return std::pair{r.rate, r.allocs_per};
         }},
        {"session_w" + std::to_string(o.window),
         [] {
             auto r = stream_session(true);
             return std::pair{r.rate, r.allocs_per};
         }},
        {"raw",
         [] {
             auto r = stream_raw(true);
             return std::pair{r.rate, r.allocs_per};
         }},
        {"raw_2rd",
         [] {
             auto r = stream_raw(false);
             return std::pair{r.rate, r.allocs_per};
         }},
    };
    if (run_only(o, cs, "msgs/s"))
        return;
    const auto s = interleave(cs, o.rounds, "msgs/s");
    summarize(cs, s, {0, 1}, {2, 3}, 0.8, 0, 2, "msgs/s");
}

// ============================================================================================
// Scenario 3: memory per idle connection pair
// ============================================================================================

int g_mem_idle_ms = 2500;
int g_mem_interval_ms = 2000;
bool g_mem_shared_config = true;

heartbeat::session_config idle_session_cfg() {
    auto c = session_cfg(); // default config; only the interval may be overridden
    c.heartbeat.interval = std::chrono::milliseconds(g_mem_interval_ms);
    return c;
}

mem_result mem_session_child(std::size_t n) {
    asio::io_context ioc(1);
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::vector<tcp::socket> sockets;
    sockets.reserve(2 * n);
    std::vector<std::unique_ptr<heartbeat::tcp_session>> sessions;
    sessions.reserve(2 * n);
    malloc_trim(0);
    const auto s0 = snapshot_now();
    connect_pairs(ioc, acceptor, sockets, n);
    const auto s1 = snapshot_now();
    // Sessions share one config (as a server's do) unless --mem-config=own: each its own copy.
    const auto shared = std::make_shared<const heartbeat::session_config>(idle_session_cfg());
    for (auto& s : sockets)
        sessions.push_back(
            g_mem_shared_config
                ? std::make_unique<heartbeat::tcp_session>(std::move(s), shared)
                : std::make_unique<heartbeat::tcp_session>(std::move(s), idle_session_cfg()));
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

struct raw_end {
    tcp::socket socket;
    asio::steady_timer timer;
    std::array<char, 64> buf{};
    explicit raw_end(tcp::socket s) : socket(std::move(s)), timer(socket.get_executor()) {}
};

asio::awaitable<void> raw_reader(raw_end& e) {
    for (;;) {
        auto [ec, n] = co_await e.socket.async_read_some(asio::buffer(e.buf), use_tuple);
        if (ec)
            co_return;
    }
}

asio::awaitable<void> raw_pinger(raw_end& e) {
    static const std::array<char, 16> ping{};
    for (;;) {
        e.timer.expires_after(std::chrono::milliseconds(g_mem_interval_ms));
        auto [ec] = co_await e.timer.async_wait(use_tuple);
        if (ec)
            co_return;
        auto [wec, wn] = co_await asio::async_write(e.socket, asio::buffer(ping), use_tuple);
        if (wec)
            co_return;
    }
}

mem_result mem_raw_child(std::size_t n) {
    asio::io_context ioc(1);
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::vector<tcp::socket> sockets;
    sockets.reserve(2 * n);
    std::vector<std::unique_ptr<raw_end>> ends;
    ends.reserve(2 * n);
    malloc_trim(0);
    const auto s0 = snapshot_now();
    connect_pairs(ioc, acceptor, sockets, n);
    const auto s1 = snapshot_now();
    for (auto& s : sockets)
        ends.push_back(std::make_unique<raw_end>(std::move(s)));
    const auto s2 = snapshot_now();
    for (auto& e : ends) {
        asio::co_spawn(ioc, raw_reader(*e), asio::detached);
        asio::co_spawn(ioc, raw_pinger(*e), asio::detached);
    }
    settle(ioc, std::chrono::milliseconds(5));
    settle(ioc, std::chrono::milliseconds(100));
    const auto s3 = snapshot_now();
    exit_here_when_profiling();
    settle(ioc, std::chrono::milliseconds(g_mem_idle_ms));
    const auto s4 = snapshot_now();
    return per_pair(s0, s1, s2, s3, s4, n);
}

void run_memory(const options& o) {
    std::printf("\n== memory: %zu idle connected pairs (both ends in this process), heartbeat "
                "interval %d ms, %s config ==\n",
                o.pairs, o.mem_interval_ms, o.mem_shared_config ? "one shared" : "a per-session");
    std::printf(
        "  sizeof: tcp_session %zu, session_core %zu (heap, one per session), "
        "heartbeat_monitor %zu, rtt_estimator %zu, session_shared_stats %zu, "
        "session_config %zu, session_event %zu, tcp::socket %zu, steady_timer %zu, raw_end %zu\n",
        sizeof(heartbeat::tcp_session), probe::run_loops_size(),
        sizeof(heartbeat::heartbeat_monitor), sizeof(heartbeat::rtt_estimator),
        sizeof(heartbeat::detail::session_shared_stats), sizeof(heartbeat::session_config),
        sizeof(heartbeat::session_event), sizeof(tcp::socket), sizeof(asio::steady_timer),
        sizeof(raw_end));
    if (!o.only.empty()) { // profiling aid: one contender, in this process, no ratios
        const mem_result m =
            o.only == "session" ? mem_session_child(o.pairs) : mem_raw_child(o.pairs);
        std::printf("  %s per pair: RSS %.0f B (sockets %.0f, objects %.0f, running %.0f)  heap "
                    "%.0f B (sockets %.0f, objects %.0f, running %.0f); after %d ms idle: RSS "
                    "%.0f B heap %.0f B\n",
                    o.only.c_str(), m.rss, m.rss_sockets, m.rss_objects, m.rss_running, m.heap,
                    m.heap_sockets, m.heap_objects, m.heap_running, o.mem_idle_ms, m.idle_rss,
                    m.idle_heap);
        return;
    }
    compare_memory(
        "session", [n = o.pairs] { return mem_session_child(n); }, "raw",
        [n = o.pairs] { return mem_raw_child(n); }, o.mem_rounds, o.mem_idle_ms, 1.2);
}

} // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    g_echo_seconds = o.echo_ms / 1000.0;
    g_echo_trips = o.echo_trips;
    g_payload = o.payload;
    g_stream_msgs = o.stream_msgs;
    g_window = o.window;
    g_mem_idle_ms = o.mem_idle_ms;
    g_mem_interval_ms = o.mem_interval_ms;
    g_mem_shared_config = o.mem_shared_config;
    g_metrics = o.metrics;
    pin(o.cpu);
    std::printf("e2e_session_vs_asio: pinned to CPU %d (sched_setaffinity, one thread: client, "
                "server and both io_context loops share it); nproc %ld; one io_context "
                "(concurrency hint 1) per trial drives both ends\n",
                o.cpu, sysconf(_SC_NPROCESSORS_ONLN));
    const auto t0 = steady::now();
    const bool all = o.scenario == "all";
    if (all || o.scenario == "echo")
        run_echo(o);
    if (o.scenario == "echo_metrics")
        run_echo_metrics(o);
    if (o.scenario == "server_echo")
        run_server_echo(o);
    if (all || o.scenario == "stream")
        run_stream(o);
    if (all || o.scenario == "memory") {
        raise_nofile(o.pairs);
        run_memory(o);
    }
    std::printf("\ntotal %.1f s\n", seconds_since(t0));
    return 0;
}
