// The reconnect budget spreads a fleet's reconnects over time: 200 clients sharing one
// heartbeat::reconnect_budget (100/s, burst 20) lose their server at the same instant; the
// server is back on the same port at once, yet their connection attempts are spread over
// ~(200 - 20) / 100 s instead of arriving in one wave.
#include "client_test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/core/reconnect_budget.hpp>
#include <heartbeat/server/server.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

using namespace heartbeat;
using namespace std::chrono_literals;
namespace ht = heartbeat::test;
namespace cs = heartbeat::test::client_support;
namespace asio = boost::asio;

TEST(ClientReconnectBudget, TwoHundredClientsReconnectSpreadAtTheBudgetRate) {
    constexpr int clients = 200;
    constexpr double rate = 100.0, burst = 20.0;
    // 200 client sockets + 200 server sockets + probes: well above the usual 1024 only with
    // margin; raise the soft limit when it is lower.
    ASSERT_GE(cs::ensure_open_files(4096), 1024u);

    server_config scfg;
    scfg.session = ht::fast_config(1000ms, 1000ms, 3);
    auto server = std::make_unique<cs::threaded_server>(0, scfg);
    const unsigned short port = server->port();

    asio::io_context ioc;
    reconnect_budget budget({.rate_per_second = rate, .burst = burst});
    client_config cfg;
    cfg.session = ht::fast_config(1000ms, 1000ms, 3);
    cfg.session.heartbeat.jitter = 0.1;
    cfg.backoff.initial = 1s; // only matters if a reconnect fails; none should
    cfg.connect_timeout = 5s;
    cfg.budget = &budget;
    cfg.use_reconnect_budget = true;

    struct per_client {
        std::vector<cs::timed_event> events;
    };
    std::mutex mutex;
    std::vector<per_client> seen(clients);
    std::vector<std::unique_ptr<client>> fleet;
    std::vector<char> done(clients, 0);
    const endpoint ep = cs::local_endpoint_for(port);
    for (int i = 0; i < clients; ++i) {
        fleet.push_back(std::make_unique<client>(
            ioc.get_executor(), std::vector<endpoint>{ep}, cfg, [&, i](const client_event& e) {
                std::lock_guard lock(mutex);
                seen[static_cast<std::size_t>(i)].events.push_back({e, clock::now()});
            }));
        fleet.back()->async_run([&, i](boost::system::error_code) { done[i] = 1; });
    }
    const auto count_sessions = [&](std::uint64_t n) {
        int k = 0;
        for (auto& c : fleet)
            k += c->stats().sessions >= n && c->stats().connected;
        return k;
    };
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return count_sessions(1) == clients; }, 20s))
        << count_sessions(1) << " of " << clients << " connected";
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return server->stats().active == static_cast<std::uint64_t>(clients); }, 5s));

    // Every client loses the server at once: it closes every session and goes away; a new one
    // is listening on the same port before the clients run again, so every reconnect succeeds
    // and only the budget spaces them.
    std::size_t mark[clients];
    {
        std::lock_guard lock(mutex);
        for (int i = 0; i < clients; ++i)
            mark[i] = seen[static_cast<std::size_t>(i)].events.size();
    }
    const time_point lost_at = clock::now();
    EXPECT_TRUE(server->shutdown(5000ms));
    server = std::make_unique<cs::threaded_server>(port, scfg);
    ASSERT_EQ(server->port(), port);
    const time_point back_at = clock::now();

    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return count_sessions(2) == clients; }, 20s))
        << count_sessions(2) << " of " << clients << " reconnected";

    std::vector<time_point> connecting, closed;
    int extra_attempts = 0;
    {
        std::lock_guard lock(mutex);
        for (int i = 0; i < clients; ++i) {
            const auto& ev = seen[static_cast<std::size_t>(i)].events;
            int attempts = 0;
            bool closed_seen = false;
            for (std::size_t k = mark[i]; k < ev.size(); ++k) {
                if (ev[k].event.kind == client_event_kind::connecting) {
                    if (attempts++ == 0)
                        connecting.push_back(ev[k].at);
                }
                if (ev[k].event.kind == client_event_kind::closed && !closed_seen) {
                    closed_seen = true;
                    closed.push_back(ev[k].at);
                }
            }
            extra_attempts += std::max(0, attempts - 1);
        }
    }
    ASSERT_EQ(connecting.size(), static_cast<std::size_t>(clients));
    ASSERT_EQ(closed.size(), static_cast<std::size_t>(clients));
    EXPECT_EQ(extra_attempts, 0) << "every reconnect should succeed at the first attempt";
    std::sort(connecting.begin(), connecting.end());
    std::sort(closed.begin(), closed.end());
    const auto spread = connecting.back() - connecting.front();
    const auto early = std::count_if(connecting.begin(), connecting.end(),
                                     [&](time_point t) { return t - connecting.front() <= 50ms; });
    const double min_spread_s = (clients - burst) / rate * 0.8; // 1.44 s
    std::printf("loss noticed by all within %.1f ms (after the clients ran again); reconnect "
                "attempts spread over %.0f ms, %ld in the first 50 ms; last reconnect %.0f ms "
                "after the server was back\n",
                cs::ms_between(closed.front(), closed.back()), ht::to_ms(spread),
                static_cast<long>(early), cs::ms_between(back_at, connecting.back()));
    (void)lost_at;
    EXPECT_LT(closed.back() - closed.front(), 500ms) << "all lose the server at once";
    EXPECT_GE(std::chrono::duration<double>(spread).count(), min_spread_s);
    // In 50 ms the bucket refills 5 tokens: burst + 5, plus 2 for timer and scheduling slack.
    EXPECT_LE(early, static_cast<long>(burst + 0.050 * rate) + 2)
        << "more than burst + few attempts at once";
    // The shape: beyond the burst, the k-th attempt waits for its token, (k + 1 - burst) / rate
    // after the first (20 ms of slack for the time the fleet took to notice the loss).
    int too_early = 0;
    for (std::size_t k = static_cast<std::size_t>(burst); k < connecting.size(); ++k) {
        const auto due = std::chrono::duration<double>((k + 1 - burst) / rate);
        too_early +=
            connecting[k] - connecting.front() < std::chrono::duration_cast<duration>(due) - 20ms;
    }
    EXPECT_EQ(too_early, 0) << "attempts ahead of their budget token";
    // Spread at the budget's rate, not slower: (200 - 20) / 100 = 1.8 s plus scheduling slack.
    EXPECT_LT(spread, 4s);

    for (auto& c : fleet)
        c->close();
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return std::count(done.begin(), done.end(), 1) == clients; }, 10s));
    fleet.clear();
    server->shutdown(2000ms);
}
