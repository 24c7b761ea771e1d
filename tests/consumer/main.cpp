// Proves an installed heartbeat is usable through find_package, by a project that sets no C++
// standard of its own: two native sessions over a socketpair exchange a message, measure a
// round trip, and close. Exits 0 only if all of that happened.
#include <heartbeat/heartbeat.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/local/connect_pair.hpp>

#include <chrono>
#include <cstdio>
#include <string>

int main() {
    using namespace std::chrono_literals;
    namespace asio = boost::asio;
    asio::io_context ioc;
    asio::local::stream_protocol::socket left(ioc), right(ioc);
    asio::local::connect_pair(left, right);

    heartbeat::session_config config;
    config.heartbeat.interval = 20ms;
    config.heartbeat.pong_timeout = 200ms;
    int rtt_samples = 0;
    heartbeat::session_callbacks counting;
    counting.on_rtt = [&](heartbeat::duration, const heartbeat::rtt_estimator&) { ++rtt_samples; };
    heartbeat::unix_session a(std::move(left), config, counting);
    heartbeat::unix_session b(std::move(right), config);

    boost::system::error_code a_end = asio::error::would_block, b_end = asio::error::would_block;
    a.async_run([&](boost::system::error_code ec) { a_end = ec; });
    b.async_run([&](boost::system::error_code ec) { b_end = ec; });
    std::string received;
    b.async_receive([&](boost::system::error_code ec, std::string message) {
        if (!ec)
            received = std::move(message);
    });
    a.async_send("hello from a consumer", [](boost::system::error_code) {});

    const auto deadline = std::chrono::steady_clock::now() + 5s;
    while ((received.empty() || rtt_samples == 0) && std::chrono::steady_clock::now() < deadline)
        ioc.run_one_for(50ms);
    a.close();
    while ((a_end == asio::error::would_block || b_end == asio::error::would_block) &&
           std::chrono::steady_clock::now() < deadline)
        ioc.run_one_for(50ms);

    std::printf("received \"%s\", %d RTT sample(s); a ended: %s; b ended: %s\n", received.c_str(),
                rtt_samples, a_end.message().c_str(), b_end.message().c_str());
    const bool ok = received == "hello from a consumer" && rtt_samples > 0 &&
                    a_end == heartbeat::error::session_closed &&
                    b_end == heartbeat::error::peer_closed;
    return ok ? 0 : 1;
}
