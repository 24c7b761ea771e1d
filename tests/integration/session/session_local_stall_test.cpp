// Our own io_context blocked (a handler that sleeps) for 5 x budget: the heartbeat timer fires
// ~2 s late. That lateness is our fault, not the peer's: the local-stall guard forgives it, no
// verdict (nor even a suspicion) follows, and the session keeps working afterwards.
//
// The peer runs on its own io_context and thread with a long interval (5 s), so during our stall it
// sends nothing on its own: when our loop resumes, the late timer is the first thing it sees.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <thread>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

constexpr auto kInterval = 100ms;
constexpr auto kTimeout = 100ms;
constexpr unsigned kMisses = 3;

asio::awaitable<void> echo(tcp_session& s) {
    for (;;) {
        auto [ec, msg] = co_await s.async_receive(asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return;
        auto [sec] = co_await s.async_send(std::move(msg), asio::as_tuple(asio::use_awaitable));
        if (sec)
            co_return;
    }
}

// A client session on the test thread's io_context and an echoing peer session on its own
// io_context and thread.
struct stall_fixture {
    asio::io_context ioc;
    asio::io_context peer_ioc;
    std::optional<tcp_session> client;
    std::optional<tcp_session> peer;
    std::thread peer_thread;

    const session_config cfg = fast_config(kInterval, kTimeout, kMisses);
    const duration budget = silence_budget(cfg.heartbeat); // 400 ms
    const duration stall = 5 * budget;                     // 2 s

    // Client-side observations (all on the test thread).
    int rtt_samples = 0;
    std::vector<duration> rtts;
    std::vector<peer_state> states;
    std::vector<duration> stall_lags;
    std::optional<verdict> dead;
    bool ended = false;
    boost::system::error_code reason;
    std::function<void()> on_next_rtt; // one-shot hook

    // Peer-side observations (peer thread; read after it is joined or via atomics).
    std::atomic<bool> peer_dead{false}, peer_ended{false};

    void start() {
        tcp::acceptor acceptor(ioc, loopback());
        tcp::socket sock(ioc);
        sock.connect(acceptor.local_endpoint());
        tcp::socket peer_sock(peer_ioc);
        acceptor.accept(peer_sock);

        session_callbacks cb;
        cb.on_rtt = [this](duration rtt, const rtt_estimator&) {
            ++rtt_samples;
            rtts.push_back(rtt);
            if (auto hook = std::exchange(on_next_rtt, nullptr))
                hook();
        };
        cb.on_state_change = [this](peer_state, peer_state to, unsigned) { states.push_back(to); };
        cb.on_local_stall = [this](duration lag) { stall_lags.push_back(lag); };
        cb.on_verdict = [this](const verdict& v) { dead = v; };
        client.emplace(std::move(sock), cfg, cb);

        session_callbacks pcb;
        pcb.on_verdict = [this](const verdict&) { peer_dead = true; };
        peer.emplace(std::move(peer_sock), fast_config(5000ms, 2000ms, 3), pcb);
        peer->async_run([this](boost::system::error_code) { peer_ended = true; });
        asio::co_spawn(peer_ioc, echo(*peer), asio::detached);
        peer_thread = std::thread([this] { peer_ioc.run(); });

        client->async_run([this](boost::system::error_code ec) { reason = ec, ended = true; });
    }

    // One echo round trip through the client session; true when it came back intact.
    bool echo_round_trip(const std::string& text) {
        std::string back;
        bool done = false;
        client->async_send(text, asio::detached);
        client->async_receive([&](boost::system::error_code ec, std::string m) {
            done = true;
            if (!ec)
                back = std::move(m);
        });
        run_until(
            ioc, [&] { return done; }, 5s);
        return back == text;
    }

    void stop() {
        if (client && !ended) {
            client->close();
            run_until(
                ioc, [&] { return ended; }, 5s);
        }
        wait_until([&] { return peer_ended.load(); }, 5s);
        peer_ioc.stop();
        if (peer_thread.joinable())
            peer_thread.join();
    }

    ~stall_fixture() { stop(); }
};

} // namespace

TEST(SessionLocalStall, BlockedIoContextForFiveBudgetsIsForgivenNotFatal) {
    stall_fixture f;
    f.start();
    ASSERT_TRUE(run_until(
        f.ioc, [&] { return f.rtt_samples >= 3; }, 10s));
    ASSERT_TRUE(f.echo_round_trip("before"));

    // Right after a pong: no ping is in flight, the next one is due in `interval`, and the peer
    // has nothing to send. Then block our loop for 5 budgets.
    time_point blocked_from{}, blocked_until{};
    f.on_next_rtt = [&] {
        asio::post(f.ioc, [&] {
            blocked_from = clock::now();
            std::this_thread::sleep_for(f.stall);
            blocked_until = clock::now();
        });
    };
    ASSERT_TRUE(run_until(
        f.ioc, [&] { return blocked_until != time_point{}; }, 10s));
    const int rtt_before = f.rtt_samples;

    // Afterwards: alive, answering, measuring; and still so after three more budgets.
    ASSERT_TRUE(run_until(
        f.ioc, [&] { return f.rtt_samples >= rtt_before + 5 || f.ended; }, 5s));
    EXPECT_TRUE(f.echo_round_trip("after"));
    run_for(f.ioc, std::chrono::duration_cast<std::chrono::milliseconds>(3 * f.budget));
    EXPECT_TRUE(f.echo_round_trip("much later"));

    EXPECT_FALSE(f.ended) << f.reason.message();
    EXPECT_FALSE(f.dead.has_value()) << "false verdict after our own stall";
    const auto s = f.client->stats();
    EXPECT_EQ(s.state, peer_state::alive);
    EXPECT_GE(s.heartbeat.stalls, 1u);
    EXPECT_GE(s.heartbeat.stalled_total, f.stall - f.cfg.heartbeat.interval - 50ms);
    EXPECT_EQ(s.heartbeat.misses, 0u);
    for (auto st : f.states)
        EXPECT_EQ(st, peer_state::alive) << "state went " << to_string(st);
    ASSERT_FALSE(f.stall_lags.empty());
    EXPECT_GE(f.stall_lags.front(), f.stall - f.cfg.heartbeat.interval - 50ms);
    EXPECT_LE(f.stall_lags.front(), f.stall + 200ms);
    EXPECT_GE(f.rtt_samples, rtt_before + 5);
    EXPECT_FALSE(f.peer_dead.load());
    EXPECT_FALSE(f.peer_ended.load());
}

// The harder case: a ping is in flight when our loop blocks, and its pong only arrives after the
// loop resumes, just after the ping's deadline timer (long expired) has fired. Without the guard
// that timer is a miss (suspect; with max_missed 1 a verdict). With it, the lateness is forgiven.
TEST(SessionLocalStall, PingInFlightAcrossTheBlockIsNotCountedAsMissed) {
    stall_fixture f;
    f.start();
    ASSERT_TRUE(run_until(
        f.ioc, [&] { return f.rtt_samples >= 3; }, 10s));

    std::atomic<bool> peer_blocked{false};
    std::atomic<bool> released{false};
    time_point blocked_until{};
    bool premise_ok = false;
    asio::steady_timer stall_timer(f.ioc);
    std::uint64_t bytes_at_pong = 0;
    int rtts_at_pong = 0;
    int attempts = 0;
    std::function<void()> stall_when_ping_written = [&] {
        // Premise: the next ping has been written (bytes went out) and the peer cannot answer it.
        if (f.client->stats().bytes_sent == bytes_at_pong || !peer_blocked) {
            if (++attempts > 500) {
                released = true;
                return;
            }
            stall_timer.expires_after(1ms);
            stall_timer.async_wait([&](boost::system::error_code ec) {
                if (!ec)
                    stall_when_ping_written();
            });
            return;
        }
        premise_ok = f.rtt_samples == rtts_at_pong; // no pong since: the ping is in flight
        std::this_thread::sleep_for(f.stall);
        blocked_until = clock::now();
        released = true;
    };
    f.on_next_rtt = [&] {
        bytes_at_pong = f.client->stats().bytes_sent;
        rtts_at_pong = f.rtt_samples;
        // Hold the peer's loop until 20 ms after ours resumes: the pong comes just too late.
        asio::post(f.peer_ioc, [&] {
            peer_blocked = true;
            wait_until([&] { return released.load(); }, 30s);
            std::this_thread::sleep_for(20ms);
        });
        stall_timer.expires_after(f.cfg.heartbeat.interval);
        stall_timer.async_wait([&](boost::system::error_code ec) {
            if (!ec)
                stall_when_ping_written();
        });
    };
    ASSERT_TRUE(run_until(
        f.ioc, [&] { return released.load(); }, 10s));
    ASSERT_NE(blocked_until, time_point{}) << "the ping never went out";
    const int rtt_before = f.rtt_samples;
    ASSERT_TRUE(run_until(
        f.ioc, [&] { return f.rtt_samples >= rtt_before + 5 || f.ended; }, 5s));
    EXPECT_TRUE(f.echo_round_trip("after"));
    run_for(f.ioc, std::chrono::duration_cast<std::chrono::milliseconds>(3 * f.budget));

    EXPECT_TRUE(premise_ok);
    // The first pong after the block answered the ping sent before it.
    ASSERT_GT(f.rtts.size(), static_cast<std::size_t>(rtt_before));
    EXPECT_GE(f.rtts[static_cast<std::size_t>(rtt_before)], f.stall);
    EXPECT_FALSE(f.ended) << f.reason.message();
    EXPECT_FALSE(f.dead.has_value()) << "false verdict after our own stall";
    const auto s = f.client->stats();
    EXPECT_EQ(s.state, peer_state::alive);
    EXPECT_GE(s.heartbeat.stalls, 1u);
    EXPECT_EQ(s.heartbeat.misses, 0u) << "the stalled ping was counted as missed";
    for (auto st : f.states)
        EXPECT_EQ(st, peer_state::alive) << "state went " << to_string(st);
    EXPECT_FALSE(f.peer_dead.load());
}
