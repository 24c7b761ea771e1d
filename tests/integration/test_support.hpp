#pragma once
// Shared helpers for integration tests: connected loopback socket pairs and bounded io runs.
#include <heartbeat/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>

#include <chrono>
#include <utility>

namespace heartbeat::test {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A connected TCP pair on 127.0.0.1, port chosen by the kernel.
inline std::pair<tcp::socket, tcp::socket> tcp_pair(asio::io_context& ioc) {
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    tcp::socket client(ioc);
    client.connect(acceptor.local_endpoint());
    tcp::socket server = acceptor.accept();
    return {std::move(server), std::move(client)};
}

// Runs `ioc` until `done()` or the time limit; returns whether done() became true.
template <class Pred>
bool run_until(asio::io_context& ioc, Pred done, std::chrono::milliseconds limit) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done() && std::chrono::steady_clock::now() < end) {
        ioc.run_for(std::chrono::milliseconds(10));
        if (ioc.stopped())
            ioc.restart();
    }
    return done();
}

inline session_config fast_config(std::chrono::milliseconds interval,
                                  std::chrono::milliseconds timeout, unsigned misses) {
    session_config c;
    c.heartbeat.interval = interval;
    c.heartbeat.pong_timeout = timeout;
    c.heartbeat.max_missed = misses;
    c.heartbeat.jitter = 0.0;
    return c;
}

} // namespace heartbeat::test
