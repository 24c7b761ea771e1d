// Under a continuous stream every inbound byte proves life, so no idle ping is ever due; the
// monitor still sends one ping per interval to measure the round trip (probe_rtt_under_traffic).
// Without it the adaptive pong timeout would starve exactly when the link is busiest.
#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

struct stream_outcome {
    int receiver_rtt_samples = 0;
    int sender_rtt_samples = 0;
    std::size_t delivered = 0;
    std::uint64_t receiver_pings = 0;
};

// The server streams `rate` messages/s for `length` to the client, which only reads; counts the
// round trips each side measured while the stream flowed.
stream_outcome stream_for(bool probe, int rate, std::chrono::milliseconds length,
                          std::chrono::milliseconds interval) {
    asio::io_context ioc;
    auto [a, b] = tcp_pair(ioc);
    auto cfg = fast_config(interval, 1000ms, 3);
    cfg.heartbeat.probe_rtt_under_traffic = probe;
    stream_outcome out;
    bool streaming = false;
    session_callbacks sender_cb, receiver_cb;
    sender_cb.on_rtt = [&](duration, const rtt_estimator&) { out.sender_rtt_samples += streaming; };
    receiver_cb.on_rtt = [&](duration, const rtt_estimator&) {
        out.receiver_rtt_samples += streaming;
    };
    tcp_session sender(std::move(a), cfg, sender_cb);
    tcp_session receiver(std::move(b), cfg, receiver_cb);
    bool sender_done = false, receiver_done = false;
    sender.async_run([&](boost::system::error_code) { sender_done = true; });
    receiver.async_run([&](boost::system::error_code) { receiver_done = true; });
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (;;) {
                auto [ec, m] = co_await receiver.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
                ++out.delivered;
            }
        },
        asio::detached);
    run_for(ioc, 100ms); // HELLOs exchanged, sessions alive
    const auto pings_before = receiver.stats().heartbeat.pings_sent;
    streaming = true;
    const int count = static_cast<int>(rate * length.count() / 1000);
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer tick(ioc);
            auto next = clock::now();
            for (int i = 0; i < count; ++i) {
                sender.async_send(std::string(64, 'd'), [](boost::system::error_code) {});
                next += std::chrono::microseconds(1'000'000 / rate);
                tick.expires_at(next);
                co_await tick.async_wait(asio::use_awaitable);
            }
            streaming = false;
        },
        asio::detached);
    EXPECT_TRUE(run_until(
        ioc, [&] { return !streaming; }, length + 10s));
    out.receiver_pings = receiver.stats().heartbeat.pings_sent - pings_before;
    sender.close();
    receiver.close();
    EXPECT_TRUE(run_until(
        ioc, [&] { return sender_done && receiver_done; }, 5s));
    return out;
}

} // namespace

TEST(SessionRttUnderLoad, AHundredMessagesPerSecondStillGiveOneRoundTripPerInterval) {
    const auto interval = 200ms;
    const auto length = 3000ms; // 15 intervals
    const auto out = stream_for(true, 100, length, interval);
    std::printf("[rtt-under-load] 100 msg/s for %lld ms, interval %lld ms: receiver %d RTT "
                "samples (%llu pings), sender %d, %zu messages delivered\n",
                static_cast<long long>(length.count()), static_cast<long long>(interval.count()),
                out.receiver_rtt_samples, static_cast<unsigned long long>(out.receiver_pings),
                out.sender_rtt_samples, out.delivered);
    EXPECT_EQ(out.delivered, 300u);
    // One per interval, but for the first interval and the last, which the window may cut.
    EXPECT_GE(out.receiver_rtt_samples, 13);
    EXPECT_GE(out.sender_rtt_samples, 13); // its inbound traffic is the receiver's ACKs
    // Never more than one probe per interval: the stream does not turn into a ping flood.
    EXPECT_LE(out.receiver_pings, 16u);
}

TEST(SessionRttUnderLoad, WithoutTheProbeTheStreamStarvesTheEstimator) {
    // What the probe fixes, measured the same way: the stream keeps the monitor quiet.
    const auto out = stream_for(false, 100, 1500ms, 200ms);
    EXPECT_EQ(out.delivered, 150u);
    EXPECT_EQ(out.receiver_rtt_samples, 0);
    EXPECT_EQ(out.receiver_pings, 0u);
}
