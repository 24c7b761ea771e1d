// One side of the scale measurement (issue 14, item 1), in its own process so client and server
// each stay under the open-file limit and each is measured alone:
//
//   scale_peer raw-server                 minimal Asio heartbeat loop, listening side
//   scale_peer raw-client PORT N          ... N connections to it
//   scale_peer hb-server                  heartbeat::tcp_server, interval 1 s
//   scale_peer hb-client PORT N           N heartbeat::tcp_sessions to it, interval 1 s
//   scale_peer pool-server N / pool-client PORT N
//                                         heartbeat::session_pool on both sides: native
//                                         sessions on one timer, interval 1 s
//   scale_peer wheel-server N / wheel-client PORT N
//                                         the shared-timer prototype (wheel_heartbeats.hpp):
//                                         one peer_monitor_table and one timer per process,
//                                         bare 16-byte frames (the pool's ancestor)
//
// The raw loop is the reference of the issue: per connection one steady_timer that writes 16
// bytes every second, a read always outstanding for the peer's 16 bytes, and a verdict when
// nothing was read for 3 s; both sides alike. Servers print "ready port=P MEM"; clients print
// "ready conns=N MEM" before connecting and "connected conns=N" once all are up, where MEM is
// "rss_kb=R heap_b=H" (RSS, and the heap in use from mallinfo2). Each line "sample" on stdin
// prints "sample cpu_us=U MEM heartbeats=H conns=C": U is getrusage(RUSAGE_SELF) user + system
// time (the hb client adds cpu_end_us, after it summed its sessions' stats, so the driver can
// leave that walk out), H the heartbeats this process has seen (raw: 16-byte messages received,
// one per connection-second from the other side; hb, pool and wheel clients: pings sent + peer
// pings answered, one per ping/pong exchange). "quit" exits. The driver is run_scale.py.
#include "wheel_heartbeats.hpp"

#include <heartbeat/pool/session_pool.hpp>
#include <heartbeat/protocol/native/native_session.hpp>
#include <heartbeat/server/server.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <malloc.h>
#include <sys/resource.h>
#include <unistd.h>

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

namespace {

long rss_kb() {
    std::ifstream f("/proc/self/statm");
    long size = 0, resident = 0;
    f >> size >> resident;
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

// RSS and the heap in use (mallinfo2: arena + mmapped), which tells allocator slack and pages
// from what the objects themselves take.
std::string mem() {
    const struct mallinfo2 m = mallinfo2();
    return "rss_kb=" + std::to_string(rss_kb()) +
           " heap_b=" + std::to_string(m.uordblks + m.hblkhd);
}

long long cpu_us() {
    rusage u{};
    getrusage(RUSAGE_SELF, &u);
    return (u.ru_utime.tv_sec + u.ru_stime.tv_sec) * 1'000'000LL + u.ru_utime.tv_usec +
           u.ru_stime.tv_usec;
}

// The minimal per-connection heartbeat of the reference figures.
class raw_heartbeat : public std::enable_shared_from_this<raw_heartbeat> {
public:
    raw_heartbeat(tcp::socket socket, std::uint64_t& received, std::uint64_t& open)
        : socket_(std::move(socket)), timer_(socket_.get_executor()), received_(received),
          open_(open) {
        ++open_;
    }
    ~raw_heartbeat() { --open_; }

    void start(std::chrono::steady_clock::duration first_beat) {
        socket_.set_option(tcp::no_delay(true));
        last_read_ = std::chrono::steady_clock::now();
        read();
        timer_.expires_after(first_beat);
        wait();
    }

private:
    void read() {
        asio::async_read(socket_, asio::buffer(in_),
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                             if (ec)
                                 return self->end();
                             ++self->received_;
                             self->last_read_ = std::chrono::steady_clock::now();
                             self->read();
                         });
    }
    void wait() {
        timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
            if (ec || !self->socket_.is_open())
                return;
            if (std::chrono::steady_clock::now() - self->last_read_ > 3s)
                return self->end(); // the peer is dead
            asio::async_write(self->socket_, asio::buffer(self->out_),
                              [self](boost::system::error_code wec, std::size_t) {
                                  if (wec)
                                      self->end();
                              });
            self->timer_.expires_at(self->timer_.expiry() + 1s);
            self->wait();
        });
    }
    void end() {
        boost::system::error_code ignored;
        socket_.close(ignored);
        timer_.cancel();
    }

    tcp::socket socket_;
    asio::steady_timer timer_;
    std::array<char, 16> in_{};
    std::array<char, 16> out_{};
    std::chrono::steady_clock::time_point last_read_{};
    std::uint64_t& received_;
    std::uint64_t& open_;
};

heartbeat::session_config hb_config() {
    heartbeat::session_config c;
    c.heartbeat.interval = 1s;
    c.heartbeat.pong_timeout = 1s;
    c.heartbeat.max_missed = 2; // a 3 s budget, as the raw loop's
    return c;
}

// The same heartbeat for the members of a session_pool.
heartbeat::session_pool_config pool_config(std::size_t capacity) {
    heartbeat::session_pool_config c;
    c.session = hb_config();
    c.capacity = capacity;
    return c;
}

// Answers "sample" lines from stdin on the io_context's thread, so counters need no locking.
template <class Sample>
void serve_stdin(asio::io_context& ioc, Sample sample) {
    std::thread([&ioc, sample] {
        std::string line;
        while (std::getline(std::cin, line)) {
            if (line == "quit")
                break;
            if (line == "sample")
                asio::post(ioc, sample);
        }
        std::_Exit(0); // the driver is done with us: no orderly teardown of 9k sessions needed
    }).detach();
}

// Connects `n` sockets to `port`, at most 64 in flight (the listen backlog is not the limit
// under test), then calls done.
template <class OnSocket>
void connect_all(asio::io_context& ioc, unsigned short port, std::size_t n, OnSocket on_socket,
                 std::function<void()> done) {
    struct state {
        std::size_t started = 0, finished = 0;
    };
    auto s = std::make_shared<state>();
    const tcp::endpoint target(asio::ip::make_address("127.0.0.1"), port);
    auto next = std::make_shared<std::function<void()>>();
    *next = [&ioc, s, n, target, on_socket, done, next] {
        if (s->started == n)
            return;
        ++s->started;
        auto socket = std::make_shared<tcp::socket>(ioc);
        socket->async_connect(
            target, [s, n, socket, on_socket, done, next](boost::system::error_code ec) {
                if (ec) {
                    std::fprintf(stderr, "connect failed: %s\n", ec.message().c_str());
                    std::exit(1);
                }
                on_socket(std::move(*socket));
                if (++s->finished == n)
                    done();
                (*next)();
            });
    };
    for (int i = 0; i < 64; ++i)
        (*next)();
}

int usage() {
    std::fprintf(stderr, "usage: scale_peer raw-server | hb-server | pool-server | wheel-server | "
                         "raw-client PORT N | hb-client PORT N | pool-client PORT N | "
                         "wheel-client PORT N\n");
    return 2;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2)
        return usage();
    const std::string role = argv[1];
    const bool client = role == "raw-client" || role == "hb-client" || role == "pool-client" ||
                        role == "wheel-client";
    if (client && argc != 4)
        return usage();
    // The shared-table servers take the session count: their table is sized for it, after the
    // "ready" line, so that its memory counts per session as everything else does.
    const bool sized = role == "pool-server" || role == "wheel-server";
    if (!client &&
        (argc != (sized ? 3 : 2) || (role != "raw-server" && role != "hb-server" && !sized)))
        return usage();
    const std::size_t server_capacity = sized ? std::strtoull(argv[2], nullptr, 10) : 0;
    if (sized && server_capacity == 0)
        return usage();

    asio::io_context ioc(1);
    std::uint64_t received = 0, open = 0;
    std::mt19937_64 rng(std::random_device{}());
    auto spread = [&] { return std::chrono::microseconds(rng() % 1'000'000); };

    if (role == "raw-server") {
        tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        acceptor.listen(4096);
        std::function<void()> accept = [&] {
            acceptor.async_accept([&](boost::system::error_code ec, tcp::socket socket) {
                if (!ec)
                    std::make_shared<raw_heartbeat>(std::move(socket), received, open)
                        ->start(spread());
                accept();
            });
        };
        accept();
        std::printf("ready port=%u %s\n", acceptor.local_endpoint().port(), mem().c_str());
        std::fflush(stdout);
        serve_stdin(ioc, [&] {
            const std::string r = mem();
            std::printf("sample cpu_us=%lld %s heartbeats=%llu conns=%llu\n", cpu_us(), r.c_str(),
                        static_cast<unsigned long long>(received),
                        static_cast<unsigned long long>(open));
            std::fflush(stdout);
        });
        ioc.run();
        return 0;
    }

    if (role == "wheel-server") {
        tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        acceptor.listen(4096);
        std::printf("ready port=%u %s\n", acceptor.local_endpoint().port(), mem().c_str());
        std::fflush(stdout);
        scale::wheel_heartbeats wheel(ioc, server_capacity);
        std::function<void()> accept = [&] {
            acceptor.async_accept([&](boost::system::error_code ec, tcp::socket socket) {
                if (!ec)
                    wheel.add(std::move(socket));
                accept();
            });
        };
        accept();
        serve_stdin(ioc, [&] {
            std::printf("sample cpu_us=%lld %s heartbeats=%llu conns=%llu\n", cpu_us(),
                        mem().c_str(), static_cast<unsigned long long>(wheel.heartbeats()),
                        static_cast<unsigned long long>(wheel.open()));
            std::fflush(stdout);
        });
        ioc.run();
        return 0;
    }

    if (role == "pool-server") {
        tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
        acceptor.listen(4096);
        std::printf("ready port=%u %s\n", acceptor.local_endpoint().port(), mem().c_str());
        std::fflush(stdout);
        heartbeat::session_pool pool(ioc, pool_config(server_capacity));
        std::function<void()> accept = [&] {
            // Accepted straight onto the pool's socket type (no move between executors).
            acceptor.async_accept(ioc, [&](boost::system::error_code ec,
                                           heartbeat::session_pool::socket_type socket) {
                if (!ec)
                    pool.add(std::move(socket), ec);
                accept();
            });
        };
        accept();
        serve_stdin(ioc, [&] {
            // The client process counts the heartbeats (each exchange has one side there).
            std::printf("sample cpu_us=%lld %s heartbeats=0 conns=%llu\n", cpu_us(), mem().c_str(),
                        static_cast<unsigned long long>(pool.stats().members));
            std::fflush(stdout);
        });
        ioc.run();
        return 0;
    }

    if (role == "hb-server") {
        heartbeat::server_config config;
        config.session = hb_config();
        config.max_sessions = 20000;
        heartbeat::tcp_server server(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0),
                                     config);
        server.async_run([](boost::system::error_code) {});
        std::printf("ready port=%u %s\n", server.local_endpoint().port(), mem().c_str());
        std::fflush(stdout);
        serve_stdin(ioc, [&] {
            // The client process counts the heartbeats (each exchange has one side there).
            const long long cpu = cpu_us();
            std::printf("sample cpu_us=%lld %s heartbeats=0 conns=%llu\n", cpu, mem().c_str(),
                        static_cast<unsigned long long>(server.stats().active));
            std::fflush(stdout);
        });
        ioc.run();
        return 0;
    }

    const auto port = static_cast<unsigned short>(std::atoi(argv[2]));
    const auto n = static_cast<std::size_t>(std::atoll(argv[3]));
    if (port == 0 || n == 0)
        return usage();
    std::printf("ready conns=%zu %s\n", n, mem().c_str());
    std::fflush(stdout);
    auto connected = [n] {
        std::printf("connected conns=%zu\n", n);
        std::fflush(stdout);
    };

    if (role == "raw-client") {
        connect_all(
            ioc, port, n,
            [&](tcp::socket socket) {
                std::make_shared<raw_heartbeat>(std::move(socket), received, open)->start(spread());
            },
            connected);
        serve_stdin(ioc, [&] {
            std::printf("sample cpu_us=%lld %s heartbeats=%llu conns=%llu\n", cpu_us(),
                        mem().c_str(), static_cast<unsigned long long>(received),
                        static_cast<unsigned long long>(open));
            std::fflush(stdout);
        });
        ioc.run();
        return 0;
    }

    if (role == "wheel-client") {
        scale::wheel_heartbeats wheel(ioc, n);
        connect_all(
            ioc, port, n, [&](tcp::socket socket) { wheel.add(std::move(socket)); }, connected);
        serve_stdin(ioc, [&] {
            std::printf("sample cpu_us=%lld %s heartbeats=%llu conns=%llu\n", cpu_us(),
                        mem().c_str(), static_cast<unsigned long long>(wheel.heartbeats()),
                        static_cast<unsigned long long>(wheel.open()));
            std::fflush(stdout);
        });
        ioc.run();
        return 0;
    }

    if (role == "pool-client") {
        heartbeat::session_pool pool(ioc, pool_config(n));
        connect_all(
            ioc, port, n,
            [&](tcp::socket socket) {
                boost::system::error_code ec;
                pool.add(std::move(socket), ec);
            },
            connected);
        serve_stdin(ioc, [&] {
            const heartbeat::session_pool_stats st = pool.stats();
            std::printf("sample cpu_us=%lld %s heartbeats=%llu conns=%llu\n", cpu_us(),
                        mem().c_str(),
                        static_cast<unsigned long long>(st.pings_sent + st.pings_answered),
                        static_cast<unsigned long long>(st.members));
            std::fflush(stdout);
        });
        ioc.run();
        return 0;
    }

    std::vector<std::unique_ptr<heartbeat::tcp_session>> sessions;
    sessions.reserve(n);
    std::uint64_t ended = 0;
    // One config shared by every session, as the server's sessions share theirs.
    const auto config = std::make_shared<const heartbeat::session_config>(hb_config());
    connect_all(
        ioc, port, n,
        [&](tcp::socket socket) {
            sessions.push_back(std::make_unique<heartbeat::tcp_session>(std::move(socket), config));
            sessions.back()->async_run([&ended](boost::system::error_code) { ++ended; });
        },
        connected);
    serve_stdin(ioc, [&] {
        // CPU time before and after the stats walk: the driver leaves the walk out of the window.
        const long long cpu = cpu_us();
        std::uint64_t beats = 0;
        for (const auto& s : sessions) {
            const heartbeat::session_stats st = s->stats();
            beats += st.heartbeat.pings_sent + st.pings_answered;
        }
        std::printf("sample cpu_us=%lld cpu_end_us=%lld %s heartbeats=%llu conns=%llu\n", cpu,
                    cpu_us(), mem().c_str(), static_cast<unsigned long long>(beats),
                    static_cast<unsigned long long>(sessions.size() - ended));
        std::fflush(stdout);
    });
    ioc.run();
    return 0;
}
