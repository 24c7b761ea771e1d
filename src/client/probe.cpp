#include "probe.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <memory>

namespace heartbeat::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

// A one-shot-at-a-time wake-up: a coroutine sleeps on it until a deadline or notify().
class wakeup {
public:
    explicit wakeup(const asio::any_io_executor& ex) : timer_(ex) {}
    asio::awaitable<void> wait_until(time_point deadline) {
        timer_.expires_at(deadline);
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    void notify() { timer_.cancel(); }

private:
    asio::steady_timer timer_;
};

} // namespace

session_config probe_config(const session_config& base, duration probe_timeout) {
    session_config pc = base;
    pc.session_id = 0;
    pc.heartbeat.interval = std::min<duration>(pc.heartbeat.interval, milliseconds(50));
    pc.heartbeat.jitter = 0.0;
    pc.heartbeat.pong_timeout = probe_timeout;
    pc.handshake_timeout = probe_timeout;
    pc.tcp_keepalive = false;
    // A probe is not a session of the endpoint: it must not move its series or log as one.
    pc.metrics = nullptr;
    pc.log = nullptr;
    return pc;
}

asio::awaitable<bool> probe_endpoint(asio::any_io_executor strand, endpoint ep,
                                     session_config config, duration probe_timeout,
                                     connect_options options) {
    auto done = std::make_shared<bool>(false);
    auto healthy = std::make_shared<bool>(false);
    auto signal = std::make_shared<wakeup>(strand);
    session_callbacks cb;
    cb.on_rtt = [healthy, signal](duration, const rtt_estimator&) {
        *healthy = true;
        signal->notify();
    };
    auto [ec, connected] = co_await connect_supervised(strand, ep, config, cb, options);
    if (ec)
        co_return false;
    auto s = connected; // Clang before 16 cannot capture a structured binding in a lambda
    s->run([s, done, signal](error_code) {
        *done = true;
        signal->notify();
    });
    const time_point deadline = clock::now() + probe_timeout;
    while (!*healthy && !*done && clock::now() < deadline)
        co_await signal->wait_until(deadline);
    s->close();
    while (!*done)
        co_await signal->wait_until(clock::now() + seconds(5));
    co_return *healthy;
}

} // namespace heartbeat::detail
