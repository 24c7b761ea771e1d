// A heartbeat session over a stream of your own: here a duplex pipe (two POSIX pipes, one per
// direction), the kind of byte stream a subprocess, a serial line or an SSH channel gives you.
//
// basic_session<Stream> asks only what an Asio AsyncReadStream + AsyncWriteStream has:
// executor_type, get_executor(), async_read_some and async_write_some
// (heartbeat/session/session_stream.hpp; a type that lacks one fails to compile with a message
// naming it). cancel(ec) and close(ec) are optional and used when present: cancel lets a
// verdict end the session at once, close lets the peer see EOF. No protocol_type, no socket
// options. Pipes raise SIGPIPE on a write after the reader is gone (sockets do not: Asio sends
// with MSG_NOSIGNAL), so a program that writes to pipes ignores it.
//
// Two sessions talk over the pipes and measure round trips; then one side's event loop stops
// (a hung process: its pipe stays open, nothing answers) and the other side declares it dead
// after the silence budget. Exits 0 when both happened.
#include <heartbeat/protocol/native/native_session.hpp>
#include <heartbeat/session/stream_session_impl.hpp> // instantiates basic_session<your stream>

#include <boost/asio/io_context.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>

#include <chrono>
#include <csignal>
#include <cstdio>
#include <string>
#include <unistd.h>

namespace asio = boost::asio;
namespace hb = heartbeat;
using namespace std::chrono_literals;

// One end of a duplex pipe: reads from one pipe, writes to the other.
class pipe_end {
public:
    using executor_type = asio::any_io_executor;

    pipe_end(asio::io_context& ioc, int read_fd, int write_fd)
        : in_(ioc, read_fd), out_(ioc, write_fd) {}

    executor_type get_executor() { return in_.get_executor(); }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return in_.async_read_some(buffers, std::forward<Token>(token));
    }
    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return out_.async_write_some(buffers, std::forward<Token>(token));
    }
    // Optional: lets a verdict stop the pending read at once. Without it the session would
    // end only when the hung peer next sends or closes.
    void cancel(boost::system::error_code& ec) {
        in_.cancel(ec);
        out_.cancel(ec);
    }
    // Optional: lets the session close its side when it ends, so the peer reads EOF.
    void close(boost::system::error_code& ec) {
        in_.close(ec);
        out_.close(ec);
    }

private:
    asio::posix::stream_descriptor in_, out_;
};
static_assert(hb::session_stream<pipe_end>);

using pipe_session = hb::basic_session<pipe_end>;

int main() {
    std::signal(SIGPIPE, SIG_IGN);
    int a_to_b[2], b_to_a[2];
    if (::pipe(a_to_b) != 0 || ::pipe(b_to_a) != 0) {
        std::perror("pipe");
        return 1;
    }
    // Two event loops, as if two processes: b's stops to play a hung peer.
    asio::io_context ioc_a, ioc_b;
    hb::session_config config;
    config.heartbeat.interval = 50ms; // budget 50 + 3 x 50 = 200 ms
    config.heartbeat.pong_timeout = 50ms;
    config.heartbeat.max_missed = 3;
    int rtt_samples = 0;
    hb::duration silence{};
    hb::session_callbacks on_a;
    on_a.on_rtt = [&](hb::duration rtt, const hb::rtt_estimator&) {
        if (++rtt_samples <= 3)
            std::printf("a: rtt %.3f ms\n", std::chrono::duration<double, std::milli>(rtt).count());
    };
    on_a.on_verdict = [&](const hb::verdict& v) { silence = v.silence; };
    pipe_session a(pipe_end(ioc_a, b_to_a[0], a_to_b[1]), config, on_a);
    pipe_session b(pipe_end(ioc_b, a_to_b[0], b_to_a[1]), config);

    boost::system::error_code a_end = asio::error::would_block, b_end = asio::error::would_block;
    a.async_run([&](boost::system::error_code ec) { a_end = ec; });
    b.async_run([&](boost::system::error_code ec) { b_end = ec; });
    std::string echoed;
    b.async_receive([&](boost::system::error_code ec, std::string m) {
        if (!ec)
            b.async_send("echo: " + m, [](boost::system::error_code) {});
    });
    a.async_receive([&](boost::system::error_code ec, std::string m) {
        if (!ec)
            echoed = std::move(m);
    });
    a.async_send("over a pipe", [](boost::system::error_code) {});

    const auto poll_both_until = [&](auto done) {
        for (int i = 0; i < 2000 && !done(); ++i) { // 2000 x 2.5 ms at most
            ioc_a.run_for(2ms);
            ioc_b.poll();
        }
    };
    poll_both_until([&] { return !echoed.empty() && rtt_samples >= 3; });
    std::printf("a received \"%s\", %d RTT samples\n", echoed.c_str(), rtt_samples);

    // b hangs: its loop no longer runs. a must declare it dead after about 200 ms of silence.
    const auto hung_at = std::chrono::steady_clock::now();
    for (int i = 0; i < 500 && a_end == asio::error::would_block; ++i)
        ioc_a.run_for(10ms);
    const auto detected_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - hung_at);
    std::printf("a ended: %s after %.0f ms (silence %.0f ms, budget 200 ms)\n",
                a_end.message().c_str(), detected_ms.count(),
                std::chrono::duration<double, std::milli>(silence).count());

    // b wakes up to find its peer gone (a closed its ends): its run ends too, before b goes.
    poll_both_until([&] { return b_end != asio::error::would_block; });
    std::printf("b ended: %s\n", b_end.message().c_str());

    const bool ok = echoed == "echo: over a pipe" && rtt_samples >= 3 &&
                    a_end == hb::error::peer_dead && silence >= 200ms &&
                    b_end != asio::error::would_block;
    return ok ? 0 : 1;
}
