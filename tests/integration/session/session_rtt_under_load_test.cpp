// Under a continuous stream every inbound byte proves life, so no idle ping is ever due. The
// sender measures round trips from the timed ACKs of its numbered messages; the receiver, which
// sends no messages, still sends one ping per interval to measure it (probe_rtt_under_traffic).
// Without either the adaptive pong timeout would starve exactly when the link is busiest.
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
    std::uint64_t sender_pings = 0;
    std::vector<duration> sender_samples; // while streaming
};

// The server streams `rate` messages/s for `length` to the client, which only reads; counts the
// round trips each side measured while the stream flowed.
stream_outcome stream_for(bool probe, int rate, std::chrono::milliseconds length,
                          std::chrono::milliseconds interval,
                          std::chrono::milliseconds ack_delay = 5ms) {
    asio::io_context ioc;
    auto [a, b] = tcp_pair(ioc);
    auto cfg = fast_config(interval, 1000ms, 3);
    cfg.heartbeat.probe_rtt_under_traffic = probe;
    cfg.ack_delay = ack_delay;
    stream_outcome out;
    bool streaming = false;
    session_callbacks sender_cb, receiver_cb;
    sender_cb.on_rtt = [&](duration d, const rtt_estimator&) {
        out.sender_rtt_samples += streaming;
        if (streaming)
            out.sender_samples.push_back(d);
    };
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
    const auto sender_pings_before = sender.stats().heartbeat.pings_sent;
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
    out.sender_pings = sender.stats().heartbeat.pings_sent - sender_pings_before;
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

// The sender's samples come from the timed ACKs of its own messages, with no ping: the receiver
// holds each ACK up to ack_delay (8 ms here, less than the 10 ms between messages, so each ACK
// is of the newest message) and says how long, so the sample is the round trip, not the hold.
// Samples are at most ten per interval (20 ms apart here).
TEST(SessionRttUnderLoad, TimedAcksGiveTheSenderTheRoundTripOfItsMessagesWithoutPings) {
    const auto interval = 200ms;
    const auto out = stream_for(true, 100, 2000ms, interval, 8ms); // 10 intervals, 200 messages
    EXPECT_EQ(out.delivered, 200u);
    ASSERT_FALSE(out.sender_samples.empty());
    auto samples = out.sender_samples;
    std::sort(samples.begin(), samples.end());
    const duration median = samples[samples.size() / 2];
    std::printf("[rtt-under-load] timed ACKs: sender %zu RTT samples from 200 messages, median "
                "%.3f ms (ACKs held up to 8 ms), %llu sender pings while streaming\n",
                samples.size(), to_ms(median), static_cast<unsigned long long>(out.sender_pings));
    // At most one per 20 ms, and the sender reads the clock for a write only once a read has
    // shown the 20 ms passed, so about one every third message (~66; a late timer may bunch two
    // messages under one ACK): several per interval, where a probe gives one.
    EXPECT_GE(samples.size(), 30u);
    EXPECT_LE(samples.size(), 110u); // the rate limit holds
    // The hold is subtracted: without it every sample would be about 8 ms.
    EXPECT_LT(median, 4ms);
    EXPECT_GE(samples.front(), duration::zero());
    // The probe is not needed while ACKs measure: at most a few (10 intervals would be 10).
    EXPECT_LE(out.sender_pings, 3u);
}

// Timed ACKs only to a peer that announced them in its HELLO (feature_timed_ack): a peer of an
// older version, which sends 0 there, gets the 8-byte ACK it knows.
namespace {

std::optional<ack_frame> first_ack_for(std::uint64_t features) {
    asio::io_context ioc;
    auto [a, raw] = tcp_pair(ioc);
    tcp_session s(std::move(a), fast_config(1000ms, 1000ms, 3));
    bool ended = false;
    s.async_run([&](boost::system::error_code) { ended = true; });
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (;;) { // take what arrives, so it is acknowledged
                auto [ec, m] = co_await s.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
            }
        },
        asio::detached);
    std::optional<ack_frame> ack;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            hello_frame hello;
            hello.features = features;
            auto bytes = frame_bytes(hello);
            const std::uint8_t x[] = {'x'};
            encode_append(data_frame{true, x}, bytes);
            co_await asio::async_write(raw, asio::buffer(bytes), asio::use_awaitable);
            std::vector<seen_frame> frames;
            co_await read_raw_frames(raw, frames, [&](const frame& f) {
                if (const auto* k = std::get_if<ack_frame>(&f); k && !ack) {
                    ack = *k;
                    raw.close();
                }
            });
        },
        asio::detached);
    EXPECT_TRUE(run_until(
        ioc, [&] { return ack.has_value(); }, 10s));
    s.close();
    run_until(
        ioc, [&] { return ended; }, 5s);
    return ack;
}

} // namespace

TEST(SessionTimedAck, OnlyAPeerThatAnnouncedThemGetsTimedAcks) {
    const auto old_peer = first_ack_for(0);
    ASSERT_TRUE(old_peer.has_value());
    EXPECT_EQ(old_peer->delivered, 1u);
    EXPECT_FALSE(old_peer->delay_us.has_value());

    const auto new_peer = first_ack_for(feature_timed_ack);
    ASSERT_TRUE(new_peer.has_value());
    EXPECT_EQ(new_peer->delivered, 1u);
    ASSERT_TRUE(new_peer->delay_us.has_value());
    // Held until ack_delay (5 ms by default) with nothing else to ride on: at least most of it,
    // and not seconds.
    EXPECT_GE(*new_peer->delay_us, 1000u);
    EXPECT_LT(*new_peer->delay_us, 5'000'000u);
}
