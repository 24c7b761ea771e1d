// The README's "Embedding a session" snippet, compiled and run so it cannot rot: the lines
// between the two [embedding] markers are the README's block, character for character
// (ctest's readme_snippet test compares them). Below them, a main that gives the snippet a
// real peer: a heartbeat::tcp_server on a free loopback port, echoing every message.
// Exits 0 when the conversation happened and the session ended because we closed it.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>

// [embedding]
#include <heartbeat/protocol/native/native_session.hpp>
namespace asio = boost::asio;
using namespace std::chrono_literals;

asio::awaitable<void> converse(heartbeat::tcp_session& session) {
    co_await session.async_send("hello", asio::use_awaitable);
    std::string reply = co_await session.async_receive(asio::use_awaitable);
    std::printf("reply: %s\n", reply.c_str());
    session.close(); // flushes what is queued, sends CLOSE; async_run completes next
}

asio::awaitable<boost::system::error_code> talk(asio::ip::tcp::socket socket) {
    heartbeat::session_config config;
    config.heartbeat.interval = 1s;        // ping after 1 s of inbound silence
    config.heartbeat.pong_timeout = 500ms; // each ping's deadline, from when it was written
    config.heartbeat.max_missed = 3;       // dead after 3 unanswered pings: budget 2.5 s
    heartbeat::session_callbacks on;
    on.on_verdict = [](const heartbeat::verdict& v) { /* v.silence, v.missed */ };
    heartbeat::tcp_session session(std::move(socket), config, on);
    asio::co_spawn(session.get_executor(), converse(session), asio::detached);
    // The session lives in this frame, so wait for async_run: it completes last, after every
    // other operation of the session has.
    auto [why] = co_await session.async_run(asio::as_tuple(asio::use_awaitable));
    co_return why; // session_closed here; peer_dead, peer_closed, ... when the peer fails
}
// [embedding]

#include <heartbeat/server/server.hpp>

int main() {
    asio::io_context ioc;
    heartbeat::tcp_server echo(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    echo.async_run(asio::detached);
    asio::ip::tcp::socket socket(ioc);
    socket.connect(echo.local_endpoint());

    boost::system::error_code ended = asio::error::would_block;
    asio::co_spawn(ioc, talk(std::move(socket)),
                   [&](std::exception_ptr, boost::system::error_code why) {
                       ended = why;
                       echo.close();
                   });
    ioc.run_for(10s); // returns early once the server and the session are done
    std::printf("session ended: %s\n", ended.message().c_str());
    return ended == heartbeat::error::session_closed ? 0 : 1;
}
