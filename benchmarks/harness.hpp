#pragma once
// What every end-to-end harness (e2e_*.cpp) shares: failing loudly, timing, medians, a
// connected loopback TCP pair, a bounded io_context run, CPU pinning, the round-trip timer and
// the operator-new counter (defined in harness_alloc_count.cpp, linked into each harness).
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include <sched.h>

namespace alloc_count {
extern std::uint64_t calls; // operator new calls in this process
extern std::uint64_t bytes;
} // namespace alloc_count

namespace e2e {

using steady = std::chrono::steady_clock;

[[noreturn]] inline void fail(const std::string& what) {
    std::fprintf(stderr, "%s: %s\n", program_invocation_short_name, what.c_str());
    std::exit(1);
}

inline double seconds_since(steady::time_point t0) {
    return std::chrono::duration<double>(steady::now() - t0).count();
}

inline double median(std::vector<double> v) {
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const std::size_t n = v.size();
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

inline void set_nodelay(boost::asio::ip::tcp::socket& s) {
    s.set_option(boost::asio::ip::tcp::no_delay(true));
}

// A connected 127.0.0.1 pair {server, client}, both with TCP_NODELAY.
inline std::pair<boost::asio::ip::tcp::socket, boost::asio::ip::tcp::socket>
tcp_pair(boost::asio::io_context& ioc) {
    using tcp = boost::asio::ip::tcp;
    tcp::acceptor acceptor(ioc, tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket client(ioc);
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();
    set_nodelay(client);
    set_nodelay(server);
    return {std::move(server), std::move(client)};
}

// Runs the io_context until it has no work; a hung trial is a bug, not a slow result.
inline void run_bounded(boost::asio::io_context& ioc, const char* what) {
    ioc.run_for(std::chrono::seconds(60));
    if (!ioc.stopped())
        fail(std::string(what) + ": did not finish within 60 s");
}

inline void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set) != 0)
        fail("sched_setaffinity(" + std::to_string(cpu) + ") failed: " + std::strerror(errno));
}

// ---- echo round trips ------------------------------------------------------------------------

struct echo_result {
    double rate = 0;       // round trips per second
    double allocs_per = 0; // operator-new calls per round trip (whole process: both ends)
};

inline double g_echo_seconds = 0.25; // how long a trial times round trips...
inline std::size_t g_echo_trips = 0; // ...or, when set, how many it makes

// Times round trips for g_echo_seconds (or g_echo_trips of them) after a warm-up of 200; `one`
// performs one round trip and returns false when it failed.
template <class OneTrip>
boost::asio::awaitable<echo_result> time_round_trips(OneTrip one) {
    for (int i = 0; i < 200; ++i)
        if (!co_await one())
            fail("echo warm-up failed");
    const auto calls0 = alloc_count::calls;
    const auto t0 = steady::now();
    std::uint64_t n = 0;
    double elapsed = 0;
    do {
        for (int i = 0; i < 64; ++i)
            if (!co_await one())
                fail("echo round trip failed");
        n += 64;
        elapsed = seconds_since(t0);
    } while (g_echo_trips ? n < g_echo_trips : elapsed < g_echo_seconds);
    echo_result r;
    r.rate = static_cast<double>(n) / elapsed;
    r.allocs_per = static_cast<double>(alloc_count::calls - calls0) / static_cast<double>(n);
    co_return r;
}

} // namespace e2e
