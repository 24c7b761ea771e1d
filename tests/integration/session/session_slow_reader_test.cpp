// A 64 MiB send to a slow reader: no false verdict on either side, and pings keep flowing for the
// whole transfer, because pings jump the queue between DATA chunks.
//
// Why these numbers make the test meaningful:
//  * The reader drains at most ~16 MiB/s (64 KiB per read, then 4 ms of sleep; or 128 KiB
//    messages taken by the application every 8 ms), so 64 MiB takes >= 4 s: more than three
//    silence budgets (1 s). If a ping had to wait behind the message instead of between its
//    chunks, its pong would come seconds late and the sender would declare a healthy peer dead.
//  * chunk_size 16 KiB: a ping waits for at most one chunk to be written.
//  * SO_SNDBUF/SO_RCVBUF are fixed to 64 KiB (Linux doubles that, ~256 KiB in flight), so a ping
//    that entered the kernel waits behind at most a few hundred KiB, ~20 ms at the reader's pace:
//    far below pong_timeout (300 ms). With autotuned buffers (up to 4 + 6 MiB on loopback) the
//    kernel's queue alone could approach the budget and the test would measure the kernel, not
//    the session.
//  * receive_buffer_limit 256 KiB on the receiving session: its reader really pauses (back-
//    pressure reaches the TCP window) instead of buffering the 64 MiB in memory.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <mutex>
#include <thread>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kTotal = 64u << 20;
constexpr int kSocketBuffer = 64 * 1024;

session_config sender_config() {
    auto c = fast_config(100ms, 300ms, 3); // budget 1 s
    c.chunk_size = 16 * 1024;
    return c;
}

inline char pattern_byte(std::size_t i) {
    return static_cast<char>((i * 131 + (i >> 16)) & 0xFF);
}

// Heartbeat traffic of the sending session, sampled by callbacks on its executor.
struct sender_watch {
    std::vector<time_point> rtt_at;
    duration max_rtt{};
    std::optional<verdict> dead;
    bool ever_dead = false;
    session_callbacks callbacks() {
        session_callbacks cb;
        cb.on_rtt = [this](duration rtt, const rtt_estimator&) {
            rtt_at.push_back(clock::now());
            max_rtt = std::max(max_rtt, rtt);
        };
        cb.on_verdict = [this](const verdict& v) { dead = v; };
        cb.on_state_change = [this](peer_state, peer_state to, unsigned) {
            ever_dead = ever_dead || to == peer_state::dead;
        };
        return cb;
    }
    // Longest time without a pong within [from, to].
    duration longest_pong_gap(time_point from, time_point to) const {
        duration gap{};
        time_point prev = from;
        for (auto t : rtt_at) {
            if (t < from || t > to)
                continue;
            gap = std::max(gap, t - prev);
            prev = t;
        }
        return std::max(gap, to - prev);
    }
    std::size_t pongs_between(time_point from, time_point to) const {
        return static_cast<std::size_t>(std::count_if(
            rtt_at.begin(), rtt_at.end(), [&](time_point t) { return t >= from && t <= to; }));
    }
};

} // namespace

// One 64 MiB message; the reader is a raw peer on its own thread that reads slowly with blocking
// reads, answers every PING with a PONG, and checks every byte of the message.
TEST(SessionSlowReader, SixtyFourMiBMessageToSlowRawReader) {
    asio::io_context ioc;
    auto [raw, sock] = tcp_pair_small_buffers(ioc, kSocketBuffer);
    const session_config cfg = sender_config();
    const duration budget = silence_budget(cfg.heartbeat);
    sender_watch watch;
    tcp_session sender(std::move(sock), cfg, watch.callbacks());
    bool ended = false;
    boost::system::error_code end_reason;
    sender.async_run([&](boost::system::error_code ec) { end_reason = ec, ended = true; });

    // The slow reader. Blocking reads are bounded by SO_RCVTIMEO, so it cannot hang.
    timeval tv{5, 0};
    ::setsockopt(raw.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::atomic<std::size_t> data_bytes{0};
    std::atomic<bool> content_ok{true}, got_fin{false}, reader_done{false};
    std::atomic<std::uint64_t> pongs_written{0};
    std::string reader_error;
    std::thread reader([&] {
        boost::system::error_code ec;
        const auto hello = hello_bytes();
        asio::write(raw, asio::buffer(hello), ec);
        frame_decoder decoder(1u << 20);
        std::vector<std::uint8_t> buf(64 * 1024);
        std::size_t offset = 0;
        const auto give_up = clock::now() + 60s;
        while (!ec && !got_fin && clock::now() < give_up) {
            const std::size_t n = raw.read_some(asio::buffer(buf), ec);
            if (ec)
                break;
            decoder.feed(std::span<const std::uint8_t>(buf.data(), n));
            for (;;) {
                auto r = decoder.next();
                if (r.st == parse_result::status::error) {
                    reader_error = r.ec.message();
                    ec = r.ec;
                    break;
                }
                if (r.st == parse_result::status::need_more)
                    break;
                if (auto* p = std::get_if<ping_frame>(&r.value)) {
                    const auto pong = frame_bytes(pong_frame{p->seq, p->send_time_us});
                    asio::write(raw, asio::buffer(pong), ec);
                    ++pongs_written;
                } else if (auto* d = std::get_if<data_frame>(&r.value)) {
                    for (std::size_t i = 0; i < d->payload.size(); ++i)
                        if (static_cast<char>(d->payload[i]) != pattern_byte(offset + i))
                            content_ok = false;
                    offset += d->payload.size();
                    data_bytes = offset;
                    if (d->fin)
                        got_fin = true;
                }
            }
            std::this_thread::sleep_for(4ms); // the slow part
        }
        if (ec && reader_error.empty())
            reader_error = ec.message();
        reader_done = true;
    });

    std::string message(kTotal, '\0');
    for (std::size_t i = 0; i < kTotal; ++i)
        message[i] = pattern_byte(i);
    bool sent = false;
    boost::system::error_code send_ec;
    time_point send_started{}, send_finished{};
    std::vector<std::uint64_t> pong_samples; // stats().heartbeat.pongs_received, every 250 ms
    asio::steady_timer sampler(ioc);
    std::function<void()> sample = [&] {
        pong_samples.push_back(sender.stats().heartbeat.pongs_received);
        if (sent || ended)
            return;
        sampler.expires_after(250ms);
        sampler.async_wait([&](boost::system::error_code ec) {
            if (!ec)
                sample();
        });
    };
    // Wait for the handshake so the transfer runs under an established heartbeat.
    ASSERT_TRUE(run_until(
        ioc, [&] { return sender.stats().state == peer_state::alive; }, 5s));
    send_started = clock::now();
    sender.async_send(std::move(message), [&](boost::system::error_code ec) {
        send_ec = ec;
        sent = true;
        send_finished = clock::now();
    });
    sample();
    const bool transferred = run_until(
        ioc, [&] { return (sent && reader_done) || ended; }, 60s);
    sender.close();
    run_until(
        ioc, [&] { return ended; }, 5s);
    ::shutdown(raw.native_handle(), SHUT_RDWR); // unblocks the reader if it is still reading
    reader.join();

    ASSERT_TRUE(transferred) << "sent " << data_bytes << " of " << kTotal;
    EXPECT_FALSE(send_ec) << send_ec.message();
    EXPECT_TRUE(got_fin);
    EXPECT_EQ(data_bytes.load(), kTotal);
    EXPECT_TRUE(content_ok);
    EXPECT_EQ(end_reason, error::session_closed) << end_reason.message();

    const duration took = send_finished - send_started;
    std::printf("[slow_reader] raw: %.0f ms for 64 MiB, %zu pongs, max rtt %.1f ms, longest pong "
                "gap %.1f ms\n",
                to_ms(took), watch.pongs_between(send_started, send_finished), to_ms(watch.max_rtt),
                to_ms(watch.longest_pong_gap(send_started, send_finished)));
    // The premise: the transfer took several budgets, so a ping stuck behind it would have been
    // fatal.
    EXPECT_GE(took, 3 * budget);
    // No verdict, not even a passing "dead".
    EXPECT_FALSE(watch.dead.has_value());
    EXPECT_FALSE(watch.ever_dead);
    // Pings jumped the queue: every round trip stayed below the pong timeout and pongs arrived all
    // along, never leaving a gap anywhere near the budget.
    EXPECT_LT(watch.max_rtt, cfg.heartbeat.pong_timeout);
    EXPECT_LT(watch.longest_pong_gap(send_started, send_finished), budget / 2);
    EXPECT_GE(watch.pongs_between(send_started, send_finished),
              static_cast<std::size_t>(took / (2 * cfg.heartbeat.interval)));
    // The stats counter grew during the transfer, sample by sample.
    ASSERT_GE(pong_samples.size(), 8u);
    for (std::size_t i = 1; i + 1 < pong_samples.size(); ++i)
        EXPECT_GT(pong_samples[i], pong_samples[i - 1]) << "no pong in 250 ms at sample " << i;
    EXPECT_EQ(sender.stats().heartbeat.misses, 0u);
}

// 64 MiB in 128 KiB messages to a session whose application takes one message every 8 ms: the
// receiver's buffer limit pauses its reader, back-pressure reaches the sender through TCP, and
// both sessions' heartbeats keep working across it.
TEST(SessionSlowReader, SixtyFourMiBToSlowApplicationOnAReceivingSession) {
    asio::io_context ioc;
    auto [a, b] = tcp_pair_small_buffers(ioc, kSocketBuffer);
    // Both sides ping every interval whatever else arrives (pong_only): with the default
    // any_inbound the receiver's ACKs (one per message within ack_delay) would keep the sender
    // from ever pinging, and this test is about pings crossing the transfer both ways.
    session_config cfg = sender_config();
    cfg.heartbeat.liveness = liveness_mode::pong_only;
    const duration budget = silence_budget(cfg.heartbeat);
    session_config rcfg = fast_config(100ms, 300ms, 3);
    rcfg.heartbeat.liveness = liveness_mode::pong_only;
    rcfg.receive_buffer_limit = 256 * 1024;
    sender_watch watch;
    bool receiver_dead = false;
    std::vector<time_point> receiver_rtt_at;
    duration receiver_max_rtt{};
    session_callbacks rcb;
    rcb.on_rtt = [&](duration rtt, const rtt_estimator&) {
        receiver_rtt_at.push_back(clock::now());
        receiver_max_rtt = std::max(receiver_max_rtt, rtt);
    };
    rcb.on_verdict = [&](const verdict&) { receiver_dead = true; };
    rcb.on_state_change = [&](peer_state, peer_state to, unsigned) {
        receiver_dead = receiver_dead || to == peer_state::dead;
    };
    tcp_session receiver(std::move(a), rcfg, rcb);
    tcp_session sender(std::move(b), cfg, watch.callbacks());
    bool sender_ended = false, receiver_ended = false;
    boost::system::error_code sender_reason, receiver_reason;
    sender.async_run(
        [&](boost::system::error_code ec) { sender_reason = ec, sender_ended = true; });
    receiver.async_run(
        [&](boost::system::error_code ec) { receiver_reason = ec, receiver_ended = true; });
    ASSERT_TRUE(run_until(
        ioc, [&] { return sender.stats().state == peer_state::alive; }, 5s));

    constexpr std::size_t kMessage = 128 * 1024;
    constexpr std::size_t kCount = kTotal / kMessage;
    std::size_t received = 0, bad = 0, max_paused_inbox = 0;
    bool receive_failed = false;
    for (std::size_t i = 0; i < kCount; ++i)
        sender.async_send(std::string(kMessage, static_cast<char>('a' + i % 26)), asio::detached);
    const time_point started = clock::now(); // after building the 64 MiB, which takes a while
    time_point finished{};
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer pace(ioc);
            for (std::size_t i = 0; i < kCount; ++i) {
                pace.expires_after(8ms);
                co_await pace.async_wait(asio::as_tuple(asio::use_awaitable));
                max_paused_inbox =
                    std::max(max_paused_inbox, receiver.stats().queued_receive_bytes);
                auto [ec, m] = co_await receiver.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec) {
                    receive_failed = true;
                    co_return;
                }
                if (m.size() != kMessage || m.front() != static_cast<char>('a' + i % 26) ||
                    m.back() != m.front())
                    ++bad;
                ++received;
            }
            finished = clock::now();
        },
        asio::detached);
    ASSERT_TRUE(run_until(
        ioc, [&] { return received == kCount || receive_failed || sender_ended; }, 90s))
        << "received " << received << " of " << kCount;
    const auto sender_stats = sender.stats();
    const auto receiver_stats = receiver.stats();
    sender.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return sender_ended && receiver_ended; }, 5s));

    EXPECT_EQ(received, kCount);
    EXPECT_EQ(bad, 0u);
    EXPECT_EQ(sender_reason, error::session_closed) << sender_reason.message();
    EXPECT_EQ(receiver_reason, error::peer_closed) << receiver_reason.message();
    const duration took = finished - started;
    std::printf("[slow_reader] app: %.0f ms for 64 MiB, %zu pongs, max rtt %.1f ms, longest pong "
                "gap %.1f ms, max inbox %zu\n",
                to_ms(took), watch.pongs_between(started, finished), to_ms(watch.max_rtt),
                to_ms(watch.longest_pong_gap(started, finished)), max_paused_inbox);
    EXPECT_GE(took, 3 * budget);
    // The receiver's buffer really was the bottleneck: it stayed near its limit.
    EXPECT_LE(max_paused_inbox, rcfg.receive_buffer_limit + kMessage);
    EXPECT_GE(max_paused_inbox, rcfg.receive_buffer_limit / 2);
    // No verdict on either side.
    EXPECT_FALSE(watch.dead.has_value());
    EXPECT_FALSE(watch.ever_dead);
    EXPECT_FALSE(receiver_dead);
    // Pongs kept coming during the transfer.
    EXPECT_LT(watch.longest_pong_gap(started, finished), budget / 2);
    EXPECT_GE(watch.pongs_between(started, finished),
              static_cast<std::size_t>(took / (2 * cfg.heartbeat.interval)));
    EXPECT_GT(sender_stats.heartbeat.pongs_received, 10u);
    EXPECT_EQ(sender_stats.heartbeat.misses, 0u);
    EXPECT_LT(watch.max_rtt, cfg.heartbeat.pong_timeout);
    // The receiver's pings crossed too: their pongs came back behind the data in flight to it,
    // and were read whenever its paused reader resumed.
    EXPECT_EQ(receiver_stats.heartbeat.misses, 0u);
    EXPECT_LT(receiver_max_rtt, rcfg.heartbeat.pong_timeout);
    const auto receiver_pongs =
        std::count_if(receiver_rtt_at.begin(), receiver_rtt_at.end(),
                      [&](time_point t) { return t >= started && t <= finished; });
    EXPECT_GE(static_cast<std::size_t>(receiver_pongs),
              static_cast<std::size_t>(took / (2 * rcfg.heartbeat.interval)));
    std::printf("[slow_reader] app: receiver %zu pongs, max rtt %.1f ms\n",
                static_cast<std::size_t>(receiver_pongs), to_ms(receiver_max_rtt));
}
