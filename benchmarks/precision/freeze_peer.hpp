#pragma once
// The peer that detection_precision freezes: ONE child process serving every mechanism at once,
// so a single SIGSTOP silences all of them at the same instant and each trial measures every
// detector against the same freeze.
//   * a plain Beast WebSocket echo server (a read always outstanding, so Beast answers pings):
//     the peer of our ws_session clients (missed-count and phi-accrual) and of Beast's keepalive;
//     a raw TCP client that never sends its upgrade request also just sits on it, which is
//     all the TCP keepalive contender needs (the kernel, not the process, answers its probes);
//   * a ZeroMQ DEALER echo socket on its own thread (ZMTP PINGs are answered by libzmq's I/O
//     thread, echoes by that thread; SIGSTOP stops both).
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>
#include <string>
#include <thread>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zmq.h>

namespace precision {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

[[noreturn]] inline void fail(const std::string& what) {
    std::fprintf(stderr, "detection_precision: %s\n", what.c_str());
    std::exit(1);
}

struct peer_process {
    pid_t pid = -1;
    unsigned short ws_port = 0;
    std::string zmq_endpoint; // tcp://127.0.0.1:N
};

namespace detail {

inline asio::awaitable<void> ws_echo(tcp::socket socket) {
    constexpr auto tuple = asio::as_tuple(asio::use_awaitable);
    websocket::stream<tcp::socket> ws(std::move(socket));
    if (auto [ec] = co_await ws.async_accept(tuple); ec)
        co_return;
    beast::flat_buffer buf;
    for (;;) {
        auto [ec, n] = co_await ws.async_read(buf, tuple);
        if (ec)
            co_return;
        ws.binary(ws.got_binary());
        if (auto [wec, wn] = co_await ws.async_write(buf.data(), tuple); wec)
            co_return;
        buf.consume(n);
    }
}

// Echoes every ZeroMQ message; the bound endpoint goes to the parent through report_fd.
inline void zmq_echo(int report_fd) {
    void* ctx = zmq_ctx_new();
    void* s = zmq_socket(ctx, ZMQ_DEALER);
    if (zmq_bind(s, "tcp://127.0.0.1:*") != 0)
        _exit(3);
    char endpoint[128] = {};
    size_t len = sizeof endpoint;
    zmq_getsockopt(s, ZMQ_LAST_ENDPOINT, endpoint, &len);
    const std::string line = std::string(endpoint) + "\n";
    if (::write(report_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
        _exit(3);
    ::close(report_fd);
    char buf[256];
    for (;;) {
        const int n = zmq_recv(s, buf, sizeof buf, 0);
        if (n >= 0)
            zmq_send(s, buf, static_cast<size_t>(std::min(n, 256)), 0);
    }
}

[[noreturn]] inline void child_main(int listen_fd, int report_fd) {
    prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlive the harness
    std::thread(zmq_echo, report_fd).detach();
    asio::io_context ioc(1);
    tcp::acceptor acceptor(ioc, tcp::v4(), listen_fd);
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (;;) {
                auto [ec, s] = co_await acceptor.async_accept(asio::as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
                s.set_option(tcp::no_delay(true));
                asio::co_spawn(ioc, ws_echo(std::move(s)), asio::detached);
            }
        },
        asio::detached);
    ioc.run();
    _exit(0);
}

} // namespace detail

// Forks the peer. Call before this process creates any ZeroMQ context of its own.
inline peer_process spawn_peer() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        fail(std::string("socket: ") + std::strerror(errno));
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 || ::listen(fd, 8) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
        fail(std::string("listen on 127.0.0.1: ") + std::strerror(errno));
    int report[2];
    if (::pipe2(report, O_CLOEXEC) != 0)
        fail(std::string("pipe: ") + std::strerror(errno));
    std::fflush(stdout);
    std::fflush(stderr);
    const pid_t pid = ::fork();
    if (pid < 0)
        fail(std::string("fork: ") + std::strerror(errno));
    if (pid == 0) {
        ::close(report[0]);
        detail::child_main(fd, report[1]);
    }
    ::close(fd);
    ::close(report[1]);
    peer_process p{pid, ntohs(addr.sin_port), {}};
    char c;
    while (::read(report[0], &c, 1) == 1 && c != '\n')
        p.zmq_endpoint.push_back(c);
    ::close(report[0]);
    if (p.zmq_endpoint.empty())
        fail("the peer did not report its ZeroMQ endpoint");
    return p;
}

// Thaws, ends and reaps the child, by PID.
inline void end_peer(peer_process& p) {
    if (p.pid <= 0)
        return;
    ::kill(p.pid, SIGCONT);
    ::kill(p.pid, SIGKILL);
    int status = 0;
    while (::waitpid(p.pid, &status, 0) < 0 && errno == EINTR) {
    }
    p.pid = -1;
}

// SIGSTOP, then waits until the kernel reports the child stopped.
inline void freeze(const peer_process& p) {
    ::kill(p.pid, SIGSTOP);
    int status = 0;
    while (::waitpid(p.pid, &status, WUNTRACED) < 0 && errno == EINTR) {
    }
    if (!WIFSTOPPED(status))
        fail("the peer did not stop");
}

} // namespace precision
