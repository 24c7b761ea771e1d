// A peer that stops answering without closing (a frozen process, a peer that never reads, a peer
// whose event loop no longer runs) is declared dead after a silence within
// [budget, budget + 30 ms], budget = interval + max_missed * pong_timeout (jitter 0).
//
// The verdict's `silence` runs from the last inbound frame as our side processed it. Besides that
// number, each test checks it against times the test took itself (when the peer was frozen, when
// its last frame was written), so a verdict that reports a wrong silence fails too.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <thread>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

constexpr auto kInterval = 200ms;
constexpr auto kTimeout = 200ms;
constexpr unsigned kMisses = 3;
constexpr auto kWindow = 30ms; // the bound on how late the verdict may be

// What the session under test reported.
struct observed {
    std::optional<verdict> dead;
    time_point verdict_seen{};
    int rtt_samples = 0;
    bool ended = false;
    boost::system::error_code reason;
    std::vector<peer_state> states;
};

session_callbacks record_into(observed& o) {
    session_callbacks cb;
    cb.on_verdict = [&o](const verdict& v) {
        o.dead = v;
        o.verdict_seen = clock::now();
    };
    cb.on_rtt = [&o](duration, const rtt_estimator&) { ++o.rtt_samples; };
    cb.on_state_change = [&o](peer_state, peer_state to, unsigned) { o.states.push_back(to); };
    return cb;
}

void report(const char* test, const verdict& v, duration budget) {
    std::printf("[freeze] %s silent_ms=%.3f budget_ms=%.0f late_ms=%.3f missed=%u\n", test,
                to_ms(v.silence), to_ms(budget), to_ms(v.silence - budget), v.missed);
    std::fflush(stdout);
}

void expect_verdict_in_window(const observed& o, duration budget) {
    ASSERT_TRUE(o.ended);
    EXPECT_EQ(o.reason, error::peer_dead) << o.reason.message();
    ASSERT_TRUE(o.dead.has_value());
    const verdict& v = *o.dead;
    EXPECT_EQ(v.reason, error::peer_dead);
    EXPECT_EQ(v.missed, kMisses);
    EXPECT_EQ(v.stalled, duration::zero()) << "our own process was not stalled";
    EXPECT_GE(v.silence, budget) << "declared dead before the silence budget ran out";
    EXPECT_LE(v.silence, budget + kWindow)
        << "declared dead " << to_ms(v.silence - budget) << " ms after the budget";
    // The callback runs on the step that decided the verdict.
    EXPECT_LE(o.verdict_seen - v.at, 5ms);
    ASSERT_FALSE(o.states.empty());
    EXPECT_EQ(o.states.back(), peer_state::dead);
}

} // namespace

TEST(SessionFreeze, SigstoppedPeerProcessIsDeclaredDeadWithinBudgetWindow) {
    child_peer peer;
    ASSERT_TRUE(peer.start(test_peer_path(), {})) << test_peer_path();

    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(loopback(peer.port()));
    const session_config cfg = fast_config(kInterval, kTimeout, kMisses);
    const duration budget = silence_budget(cfg.heartbeat);
    ASSERT_EQ(budget, 800ms);
    observed o;
    tcp_session client(std::move(socket), cfg, record_into(o));
    client.async_run([&](boost::system::error_code ec) { o.reason = ec, o.ended = true; });

    // The peer is alive and well first: it echoes and answers pings.
    std::string echoed;
    client.async_send("before the freeze", asio::detached);
    client.async_receive([&](boost::system::error_code ec, std::string m) {
        if (!ec)
            echoed = std::move(m);
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return o.rtt_samples >= 3 && !echoed.empty(); }, 10s));
    EXPECT_EQ(echoed, "before the freeze");
    EXPECT_FALSE(o.ended);

    ASSERT_TRUE(peer.freeze());
    const time_point frozen_at = clock::now();
    ASSERT_TRUE(run_until(
        ioc, [&] { return o.ended; }, budget + 5s));
    peer.kill_and_reap();

    expect_verdict_in_window(o, budget);
    ASSERT_TRUE(o.dead.has_value());
    report("sigstop", *o.dead, budget);
    // Independent of the library's own bookkeeping: the last inbound frame it counted cannot be
    // (much) after the peer froze, nor older than one ping cycle before it (the peer answered
    // every ping until then).
    const time_point last_inbound = o.dead->at - o.dead->silence;
    EXPECT_LE(last_inbound, frozen_at + 20ms);
    EXPECT_GE(last_inbound, frozen_at - kInterval - kTimeout);
    EXPECT_LE(o.verdict_seen - frozen_at, budget + kWindow);
}

TEST(SessionFreeze, PeerThatNeverReadsAfterHelloIsDeclaredDeadWithinBudgetWindow) {
    asio::io_context ioc;
    auto [raw, sock] = tcp_pair(ioc);
    const session_config cfg = fast_config(kInterval, kTimeout, kMisses);
    const duration budget = silence_budget(cfg.heartbeat);
    observed o;
    tcp_session client(std::move(sock), cfg, record_into(o));
    client.async_run([&](boost::system::error_code ec) { o.reason = ec, o.ended = true; });
    run_for(ioc, 50ms); // the session is running and waiting for our HELLO

    // Our whole side of the conversation: one HELLO, then never a byte more, and never a read.
    const auto hello = hello_bytes();
    asio::write(raw, asio::buffer(hello));
    const time_point hello_written = clock::now();

    ASSERT_TRUE(run_until(
        ioc, [&] { return o.ended; }, budget + 5s));
    expect_verdict_in_window(o, budget);
    ASSERT_TRUE(o.dead.has_value());
    report("never_reads", *o.dead, budget);
    // The HELLO is the only frame the session ever got: silence counts from it.
    const time_point last_inbound = o.dead->at - o.dead->silence;
    EXPECT_GE(last_inbound, hello_written);
    EXPECT_LE(last_inbound, hello_written + 20ms);
    EXPECT_GE(o.verdict_seen - hello_written, budget);
    EXPECT_LE(o.verdict_seen - hello_written, budget + kWindow + 20ms);
    EXPECT_EQ(o.rtt_samples, 0);
    // It pinged max_missed times, each unanswered, and said why it hung up.
    const auto s = client.stats();
    EXPECT_EQ(s.heartbeat.pings_sent, kMisses);
    EXPECT_EQ(s.heartbeat.pongs_received, 0u);
    EXPECT_EQ(s.heartbeat.misses, kMisses);

    // Where the lateness comes from: each PING carries the time its timer handler ran, so the
    // delay of every step of the chain (last inbound -> ping 1 -> ping 2 -> ping 3 -> verdict)
    // beyond its nominal interval/timeout shows. Each step after the first is one write (the
    // deadline runs from the write) plus one timer wake-up.
    std::vector<seen_frame> frames;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            co_await read_raw_frames(raw, frames, [](const frame&) {});
        },
        asio::detached);
    run_until(
        ioc, [&] { return find_close(frames) != nullptr; }, 2s);
    std::vector<time_point> steps{last_inbound};
    for (const auto& f : frames)
        if (f.type == frame_type::ping)
            steps.push_back(time_point(std::chrono::microseconds(f.send_time_us)));
    steps.push_back(o.dead->at);
    ASSERT_EQ(steps.size(), kMisses + 2);
    std::printf("[freeze] never_reads step lateness (ms):");
    for (std::size_t i = 1; i < steps.size(); ++i)
        std::printf(" %.3f", to_ms(steps[i] - steps[i - 1] - (i == 1 ? kInterval : kTimeout)));
    std::printf("\n");
}

TEST(SessionFreeze, PeerWhoseIoContextStopsRunningIsDeclaredDeadWithinBudgetWindow) {
    asio::io_context ioc;      // ours
    asio::io_context peer_ioc; // the peer's, run on its own thread until we freeze it
    tcp::acceptor acceptor(ioc, loopback());
    tcp::socket sock(ioc);
    sock.connect(acceptor.local_endpoint());
    tcp::socket peer_sock(peer_ioc);
    acceptor.accept(peer_sock);

    const session_config cfg = fast_config(kInterval, kTimeout, kMisses);
    const duration budget = silence_budget(cfg.heartbeat);
    observed o;
    tcp_session client(std::move(sock), cfg, record_into(o));
    // The peer heartbeats at the same pace, so its pings and pongs both count as proof of life.
    std::atomic<bool> peer_ended{false};
    boost::system::error_code peer_reason;
    std::optional<verdict> peer_verdict;
    session_callbacks peer_cb;
    peer_cb.on_verdict = [&](const verdict& v) { peer_verdict = v; };
    tcp_session peer(std::move(peer_sock), cfg, peer_cb);
    peer.async_run([&](boost::system::error_code ec) {
        peer_reason = ec;
        peer_ended = true;
    });
    std::thread peer_thread([&] { peer_ioc.run(); });

    client.async_run([&](boost::system::error_code ec) { o.reason = ec, o.ended = true; });
    const bool warmed_up = run_until(
        ioc, [&] { return o.rtt_samples >= 3; }, 10s);

    peer_ioc.stop(); // the peer's process is alive, its socket open, its event loop gone
    peer_thread.join();
    const time_point frozen_at = clock::now();
    ASSERT_TRUE(warmed_up);
    ASSERT_FALSE(peer_ended.load());

    ASSERT_TRUE(run_until(
        ioc, [&] { return o.ended; }, budget + 5s));
    expect_verdict_in_window(o, budget);
    ASSERT_TRUE(o.dead.has_value());
    report("stopped_ioc", *o.dead, budget);
    const time_point last_inbound = o.dead->at - o.dead->silence;
    EXPECT_LE(last_inbound, frozen_at + 20ms);
    EXPECT_GE(last_inbound, frozen_at - kInterval - kTimeout);

    // Let the peer's loop run again: it finds our CLOSE and goes quietly. Its own timers fire
    // late by the whole freeze; the local-stall guard must not turn that into a verdict on us.
    peer_ioc.restart();
    ASSERT_TRUE(run_until(
        peer_ioc, [&] { return peer_ended.load(); }, 5s));
    EXPECT_EQ(peer_reason, error::peer_closed) << peer_reason.message();
    EXPECT_FALSE(peer_verdict.has_value());
}
