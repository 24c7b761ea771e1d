#pragma once
// Memory per idle connection pair, shared by the end-to-end harnesses: each contender runs in
// a fork()ed child (same pinning, same clean heap), which connects its pairs, builds its
// objects, runs them idle and reports per pair: RSS (/proc/self/statm) and heap in use
// (mallinfo2) by stage, operator-new calls, and the kernel's Slab and socket slab caches.
#include "harness.hpp"

#include <heartbeat/core/heartbeat_monitor.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include <malloc.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace e2e {

struct mem_snapshot {
    long rss_bytes = 0;
    long heap_bytes = 0;    // mallinfo2: in use (arena + mmapped)
    long slab_bytes = 0;    // /proc/meminfo Slab (global)
    long sock_slab = 0;     // socket-specific slab caches, active objects x object size (global)
    long tcp_mem_pages = 0; // /proc/net/sockstat "TCP: ... mem" (global)
    std::uint64_t new_calls = 0, new_bytes = 0;
};

inline long read_statm_rss() {
    std::ifstream f("/proc/self/statm");
    long size = 0, resident = 0;
    f >> size >> resident;
    return resident * sysconf(_SC_PAGESIZE);
}

inline long read_meminfo_slab() {
    std::ifstream f("/proc/meminfo");
    std::string key;
    long value = 0;
    std::string unit;
    while (f >> key >> value) {
        std::getline(f, unit);
        if (key == "Slab:")
            return value * 1024;
    }
    return -1;
}

// The caches a connected, epoll-registered TCP socket lives in.
inline long read_socket_slabs() {
    static const char* names[] = {"TCP",
                                  "sock_inode_cache",
                                  "dentry",
                                  "filp",
                                  "eventpoll_epi",
                                  "eventpoll_pwq",
                                  "lsm_file_cache",
                                  "skbuff_head_cache",
                                  "skbuff_small_head"};
    std::ifstream f("/proc/slabinfo");
    if (!f)
        return -1;
    std::string line;
    long total = 0;
    while (std::getline(f, line)) {
        std::istringstream is(line);
        std::string name;
        long active = 0, num = 0, objsize = 0;
        if (!(is >> name >> active >> num >> objsize))
            continue;
        for (const char* n : names)
            if (name == n)
                total += active * objsize;
    }
    return total;
}

inline long read_tcp_mem_pages() {
    std::ifstream f("/proc/net/sockstat");
    std::string line;
    while (std::getline(f, line)) {
        if (line.rfind("TCP:", 0) != 0)
            continue;
        const auto pos = line.find(" mem ");
        if (pos != std::string::npos)
            return std::stol(line.substr(pos + 5));
    }
    return -1;
}

inline mem_snapshot snapshot_now() {
    mem_snapshot s;
    const auto mi = mallinfo2();
    s.heap_bytes = static_cast<long>(mi.uordblks + mi.hblkhd);
    s.rss_bytes = read_statm_rss();
    s.slab_bytes = read_meminfo_slab();
    s.sock_slab = read_socket_slabs();
    s.tcp_mem_pages = read_tcp_mem_pages();
    s.new_calls = alloc_count::calls;
    s.new_bytes = alloc_count::bytes;
    return s;
}

// Per-pair figures of one child run (plain data: it crosses a pipe).
struct mem_result {
    double rss = 0, heap = 0, slab = 0, sock_slab = 0, tcp_mem = 0;
    double heap_sockets = 0, heap_objects = 0, heap_running = 0; // heap by stage
    double rss_sockets = 0, rss_objects = 0, rss_running = 0;    // RSS by stage
    double new_calls = 0, new_bytes = 0;                         // operator new, per pair
    double idle_rss = 0, idle_heap = 0; // the same, after --mem-idle-ms more of idling
    int ok = 0;
};

inline mem_result per_pair(const mem_snapshot& s0, const mem_snapshot& s1, const mem_snapshot& s2,
                           const mem_snapshot& s3, const mem_snapshot& s4, std::size_t n) {
    const double d = static_cast<double>(n);
    mem_result r;
    r.rss = (s3.rss_bytes - s0.rss_bytes) / d;
    r.heap = (s3.heap_bytes - s0.heap_bytes) / d;
    r.slab = (s3.slab_bytes - s0.slab_bytes) / d;
    r.sock_slab = (s3.sock_slab - s0.sock_slab) / d;
    r.tcp_mem =
        (s3.tcp_mem_pages - s0.tcp_mem_pages) * static_cast<double>(sysconf(_SC_PAGESIZE)) / d;
    r.heap_sockets = (s1.heap_bytes - s0.heap_bytes) / d;
    r.heap_objects = (s2.heap_bytes - s1.heap_bytes) / d;
    r.heap_running = (s3.heap_bytes - s2.heap_bytes) / d;
    r.rss_sockets = (s1.rss_bytes - s0.rss_bytes) / d;
    r.rss_objects = (s2.rss_bytes - s1.rss_bytes) / d;
    r.rss_running = (s3.rss_bytes - s2.rss_bytes) / d;
    r.new_calls = static_cast<double>(s3.new_calls - s0.new_calls) / d;
    r.new_bytes = static_cast<double>(s3.new_bytes - s0.new_bytes) / d;
    r.idle_rss = (s4.rss_bytes - s0.rss_bytes) / d;
    r.idle_heap = (s4.heap_bytes - s0.heap_bytes) / d;
    r.ok = 1;
    return r;
}

// Connects n loopback pairs through one listener; containers reserved before the baseline.
inline void connect_pairs(boost::asio::io_context& ioc, boost::asio::ip::tcp::acceptor& acceptor,
                          std::vector<boost::asio::ip::tcp::socket>& out, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
        boost::asio::ip::tcp::socket client(ioc);
        client.connect(acceptor.local_endpoint());
        boost::asio::ip::tcp::socket server = acceptor.accept();
        set_nodelay(client);
        set_nodelay(server);
        out.push_back(std::move(server));
        out.push_back(std::move(client));
    }
}

inline void settle(boost::asio::io_context& ioc, std::chrono::milliseconds d) {
    ioc.run_for(d);
    if (ioc.stopped())
        ioc.restart();
}

// Runs `ioc` until every session of `sessions` (unique_ptrs to sessions) is alive, i.e. has the
// peer's HELLO or handshake, for at most 10 s; `ended` counts runs that completed meanwhile.
template <class Sessions>
void run_until_all_alive(boost::asio::io_context& ioc, const Sessions& sessions,
                         const std::size_t& ended, const std::string& what) {
    const auto deadline = steady::now() + std::chrono::seconds(10);
    for (;;) {
        settle(ioc, std::chrono::milliseconds(5));
        std::size_t alive = 0;
        for (const auto& s : sessions)
            alive += s->stats().state == heartbeat::peer_state::alive;
        if (alive == sessions.size())
            return;
        if (steady::now() > deadline || ended)
            fail(what + ": sessions did not all become alive");
    }
}

template <class Sessions>
void expect_all_alive(const Sessions& sessions, const std::string& what) {
    for (const auto& s : sessions)
        if (s->stats().state != heartbeat::peer_state::alive)
            fail(what + ": a session stopped being alive while idle");
}

// Profiling aid, with --only: HEARTBEAT_MEM_EXIT_AT_READING=1 in the environment ends the
// process right after the idle reading, so a heap profiler (heaptrack) reports everything
// still held at that moment as leaked.
inline void exit_here_when_profiling() {
    if (std::getenv("HEARTBEAT_MEM_EXIT_AT_READING"))
        std::exit(0);
}

// Runs `child` in a fork()ed process (same pinning, same clean heap each time).
inline mem_result in_child(const std::function<mem_result()>& child) {
    int fds[2];
    if (pipe(fds) != 0)
        fail("pipe failed");
    std::fflush(stdout);
    const pid_t pid = fork();
    if (pid < 0)
        fail("fork failed");
    if (pid == 0) {
        close(fds[0]);
        const mem_result r = child();
        const ssize_t w = write(fds[1], &r, sizeof r);
        _exit(w == static_cast<ssize_t>(sizeof r) ? 0 : 1);
    }
    close(fds[1]);
    mem_result r;
    const ssize_t got = read(fds[0], &r, sizeof r);
    close(fds[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (got != static_cast<ssize_t>(sizeof r) || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail("memory child failed");
    // Let the kernel reap the child's sockets before the next measurement starts.
    usleep(200 * 1000);
    return r;
}

inline void raise_nofile(std::size_t pairs) {
    rlimit lim{};
    getrlimit(RLIMIT_NOFILE, &lim);
    const rlim_t want = static_cast<rlim_t>(2 * pairs + 64);
    if (lim.rlim_cur < want) {
        lim.rlim_cur = std::min(want, lim.rlim_max);
        setrlimit(RLIMIT_NOFILE, &lim);
        getrlimit(RLIMIT_NOFILE, &lim);
    }
    if (lim.rlim_cur < want)
        fail("RLIMIT_NOFILE " + std::to_string(lim.rlim_cur) + " < " + std::to_string(want) +
             " needed for --pairs=" + std::to_string(pairs));
}

// Runs `ours` and `theirs` for `rounds` rounds (alternating which goes first), prints every
// round and the median ratios ours / theirs; `target` is the RSS ratio to meet (0: none).
inline void compare_memory(const char* our_name, const std::function<mem_result()>& ours,
                           const char* their_name, const std::function<mem_result()>& theirs,
                           int rounds, int idle_ms, double target) {
    std::vector<mem_result> ses, raw;
    for (int r = 0; r < rounds; ++r) {
        mem_result a, b;
        if (r % 2 == 0) { // alternate which goes first
            a = in_child(ours);
            b = in_child(theirs);
        } else {
            b = in_child(theirs);
            a = in_child(ours);
        }
        ses.push_back(a);
        raw.push_back(b);
        for (const auto* p : {&a, &b}) {
            std::printf("  round %d %-9s per pair: RSS %7.0f B (sockets %4.0f, objects %5.0f, "
                        "running %5.0f)  heap %7.0f B (sockets %4.0f, objects %5.0f, running "
                        "%5.0f)  new %5.1f calls/%6.0f B  | kernel: "
                        "Slab %7.0f B  socket slabs %6.0f B  TCP mem %5.0f B | after %d ms idle: "
                        "RSS %7.0f B heap %7.0f B\n",
                        r + 1, p == &a ? our_name : their_name, p->rss, p->rss_sockets,
                        p->rss_objects, p->rss_running, p->heap, p->heap_sockets, p->heap_objects,
                        p->heap_running, p->new_calls, p->new_bytes, p->slab, p->sock_slab,
                        p->tcp_mem, idle_ms, p->idle_rss, p->idle_heap);
        }
        std::fflush(stdout);
    }
    auto med = [](const std::vector<mem_result>& v, double mem_result::*f) {
        std::vector<double> x;
        for (const auto& m : v)
            x.push_back(m.*f);
        return median(x);
    };
    auto ratio = [&](double mem_result::*f) {
        std::vector<double> x;
        for (std::size_t i = 0; i < ses.size(); ++i)
            x.push_back(ses[i].*f / raw[i].*f);
        return median(x);
    };
    const double s_rss = med(ses, &mem_result::rss), r_rss = med(raw, &mem_result::rss);
    const double s_heap = med(ses, &mem_result::heap), r_heap = med(raw, &mem_result::heap);
    const double s_ks = med(ses, &mem_result::sock_slab), r_ks = med(raw, &mem_result::sock_slab);
    const double s_slab = med(ses, &mem_result::slab), r_slab = med(raw, &mem_result::slab);
    const char* a = our_name;
    const char* b = their_name;
    std::printf("  median per pair: %s RSS %.0f B, heap %.0f B | %s RSS %.0f B, heap %.0f B\n", a,
                s_rss, s_heap, b, r_rss, r_heap);
    std::printf("  median per pair, kernel: socket slabs %s %.0f B / %s %.0f B; Slab %s %.0f B / "
                "%s %.0f B\n",
                a, s_ks, b, r_ks, a, s_slab, b, r_slab);
    const double rss_ratio = ratio(&mem_result::rss);
    if (target > 0)
        std::printf("  ratio %s / %s, userspace RSS: median %.2f  target <= %.2f: %s\n", a, b,
                    rss_ratio, target, rss_ratio <= target ? "MET" : "MISSED");
    else
        std::printf("  ratio %s / %s, userspace RSS: median %.2f\n", a, b, rss_ratio);
    std::printf("  after %d ms idle: %s RSS %.0f B heap %.0f B | %s RSS %.0f B heap %.0f B per "
                "pair; RSS ratio %.2f\n",
                idle_ms, a, med(ses, &mem_result::idle_rss), med(ses, &mem_result::idle_heap), b,
                med(raw, &mem_result::idle_rss), med(raw, &mem_result::idle_heap),
                ratio(&mem_result::idle_rss));
    std::printf("  ratio %s / %s, heap in use:   median %.2f\n", a, b, ratio(&mem_result::heap));
    if (s_ks > 0 && r_ks > 0) {
        std::vector<double> x;
        for (std::size_t i = 0; i < ses.size(); ++i)
            x.push_back((ses[i].rss + ses[i].sock_slab) / (raw[i].rss + raw[i].sock_slab));
        std::printf("  ratio %s / %s, RSS + socket slabs (user + kernel): median %.2f\n", a, b,
                    median(x));
    }
}
} // namespace e2e
