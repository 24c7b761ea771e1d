// 10,000 numbered messages streamed by the client supervisor across two failovers and one
// failback, over three in-process servers A (primary), B and C that can be frozen:
//
//   on A ── A frozen ──> failover A→B ── A thawed, B frozen (before B's dwell ends, so no
//   failback to A from B) ──> failover B→C ── probes from C find A healthy (B stays frozen)
//   ──> failback C→A ── the rest on A.
//
// None is lost, each connection delivers in increasing sequence order, duplicates are bounded by
// the client's re-sends when the servers keep separate resume stores, and there are none when
// they share one.
#include "client_test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/session/resume_store.hpp>
#include <heartbeat/server/server.hpp>

#include <gtest/gtest.h>

#include <cstdio>

using namespace heartbeat;
using namespace std::chrono_literals;
namespace ht = heartbeat::test;
namespace cs = heartbeat::test::client_support;
namespace asio = boost::asio;

namespace {

constexpr std::uint64_t total_messages = 10000;

struct streaming_result {
    std::uint64_t duplicates = 0;
    std::uint64_t lost = 0;
    client_stats stats;
};

streaming_result two_failovers_one_failback(bool share_resume_store) {
    streaming_result out;
    cs::delivery_log log;
    server_config scfg;
    scfg.session = ht::fast_config(100ms, 100ms, 3);
    scfg.echo = false;
    if (share_resume_store)
        scfg.session.resume = std::make_shared<resume_store>();
    cs::threaded_server a(0, scfg, log.callbacks(0));
    cs::threaded_server b(0, scfg, log.callbacks(1));
    cs::threaded_server c3(0, scfg, log.callbacks(2));
    const endpoint ea = cs::local_endpoint_for(a.port()), eb = cs::local_endpoint_for(b.port()),
                   ec = cs::local_endpoint_for(c3.port());

    asio::io_context ioc;
    client_config cfg;
    cfg.session = ht::fast_config(100ms, 100ms, 3); // silence budget 400 ms
    cfg.backoff.initial = 50ms;
    cfg.connect_timeout = 500ms;
    cfg.endpoints.healthy_probes = 3;
    // Long enough that B, connected for well under a second before it is frozen, never fails
    // back to the thawed A; short enough that C does.
    cfg.endpoints.min_dwell = 2500ms;
    cfg.probe_interval = 200ms;
    cfg.probe_timeout = 300ms;
    cfg.use_reconnect_budget = false;
    cs::event_log events;
    client c(ioc.get_executor(), {ea, eb, ec}, cfg, events.callback());
    bool run_done = false;
    boost::system::error_code run_end;
    c.async_run([&](boost::system::error_code e) { run_end = e, run_done = true; });

    // Streams up to `cap` (moved by the scenario), ~2 messages per ms.
    std::uint64_t accepted = 0;
    std::uint64_t cap = 2500;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer pace(ioc);
            for (std::uint64_t i = 1; i <= total_messages; ++i) {
                for (int waits = 0; i > cap && waits < 20000; ++waits) {
                    pace.expires_after(2ms);
                    co_await pace.async_wait(asio::use_awaitable);
                }
                auto [e, seq] = co_await c.async_send("message " + std::to_string(i),
                                                      asio::as_tuple(asio::use_awaitable));
                if (e || seq != i)
                    co_return;
                accepted = i;
                if (i % 10 == 0) {
                    pace.expires_after(5ms);
                    co_await pace.async_wait(asio::use_awaitable);
                }
            }
        },
        asio::detached);

    const auto failovers = [&] { return events.count(client_event_kind::failover); };
    const auto failbacks = [&] { return events.count(client_event_kind::failback); };

    // Phase 1: on A.
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return accepted >= 2500 && log.on_server(0) >= 2000; }, 20s));
    a.freeze();
    const time_point a_frozen = clock::now();
    cap = 5000;
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return failovers() >= 1; }, 10s))
        << events.describe();
    const time_point first_failover = clock::now();
    a.thaw();
    // Phase 2: on B for a few hundred messages, then B freezes too.
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return log.on_server(1) >= 300; }, 10s));
    b.freeze();
    const time_point b_frozen = clock::now();
    cap = 7500;
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return failovers() >= 2; }, 10s))
        << events.describe();
    const time_point second_failover = clock::now();
    // Phase 3: on C until the probes bring the client back to A.
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return failbacks() >= 1; }, 20s))
        << events.describe();
    const time_point failback_at = clock::now();
    cap = total_messages;
    // Phase 4: the rest on A.
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return accepted == total_messages && c.stats().unacked == 0; }, 30s))
        << "accepted " << accepted << ", unacked " << c.stats().unacked;
    c.close();
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return run_done; }, 10s));
    EXPECT_EQ(run_end, error::session_closed);
    // B froze with at most a message or two already taken by its session (claimed in the shared
    // store: nobody else delivers them, and the client drops them once a HELLO reports them
    // delivered) but its on_message not yet run: thawed, B runs it. Wait for that.
    b.thaw();
    ht::wait_until(
        [&] {
            std::lock_guard lock(log.mutex);
            return log.count.size() >= total_messages;
        },
        5s);

    // The switches, exactly: A→B, B→C (failovers), C→A (failback).
    std::vector<client_event> switches;
    for (auto& t : events.snapshot())
        if (t.event.kind == client_event_kind::failover ||
            t.event.kind == client_event_kind::failback)
            switches.push_back(t.event);
    const std::string trace = events.describe();
    EXPECT_EQ(switches.size(), 3u) << trace;
    if (switches.size() == 3) {
        EXPECT_EQ(switches[0].kind, client_event_kind::failover);
        EXPECT_EQ(switches[0].from, ea.label);
        EXPECT_EQ(switches[0].to, eb.label);
        EXPECT_EQ(switches[1].kind, client_event_kind::failover);
        EXPECT_EQ(switches[1].from, eb.label);
        EXPECT_EQ(switches[1].to, ec.label);
        EXPECT_EQ(switches[2].kind, client_event_kind::failback);
        EXPECT_EQ(switches[2].from, ec.label);
        EXPECT_EQ(switches[2].to, ea.label);
    }
    out.stats = c.stats();
    EXPECT_EQ(out.stats.failovers, 2u);
    EXPECT_EQ(out.stats.failbacks, 1u);
    EXPECT_EQ(out.stats.verdicts, 2u) << "one peer_dead verdict per frozen server";
    EXPECT_EQ(out.stats.sessions, 4u); // A, B, C, A
    EXPECT_EQ(out.stats.messages_accepted, total_messages);
    EXPECT_EQ(out.stats.messages_acked, total_messages);

    std::lock_guard lock(log.mutex);
    std::uint64_t first_lost = 0;
    for (std::uint64_t seq = 1; seq <= total_messages; ++seq) {
        const auto it = log.count.find(seq);
        const int n = it == log.count.end() ? 0 : it->second;
        if (n < 1) {
            if (out.lost++ == 0)
                first_lost = seq;
        } else {
            out.duplicates += static_cast<std::uint64_t>(n - 1);
        }
    }
    EXPECT_EQ(out.lost, 0u) << "messages lost, the first " << first_lost;
    EXPECT_EQ(log.out_of_order, 0) << "each connection delivers in increasing order; first: "
                                   << log.first_out_of_order;
    EXPECT_LE(out.duplicates, out.stats.messages_resent);
    EXPECT_GT(log.per_server[1], 0u);
    EXPECT_GT(log.per_server[2], 0u);
    std::printf("A->B detected in %.0f ms, B->C in %.0f ms, failback %.0f ms after C; "
                "delivered A/B/C %llu/%llu/%llu; resent %llu, duplicates %llu\n",
                cs::ms_between(a_frozen, first_failover), cs::ms_between(b_frozen, second_failover),
                cs::ms_between(second_failover, failback_at),
                static_cast<unsigned long long>(log.per_server[0]),
                static_cast<unsigned long long>(log.per_server[1]),
                static_cast<unsigned long long>(log.per_server[2]),
                static_cast<unsigned long long>(out.stats.messages_resent),
                static_cast<unsigned long long>(out.duplicates));
    // Detection of a frozen server: silence budget (400 ms) plus one connect, generously.
    EXPECT_LT(first_failover - a_frozen, 400ms + 1500ms);
    EXPECT_LT(second_failover - b_frozen, 400ms + 1500ms);
    return out;
}

} // namespace

TEST(ClientStreamingFailover, TenThousandMessagesTwoFailoversOneFailbackSeparateStores) {
    const auto r = two_failovers_one_failback(false);
    EXPECT_GT(r.stats.messages_resent, 0u) << "failovers with messages in flight re-send some";
}

TEST(ClientStreamingFailover, TenThousandMessagesTwoFailoversOneFailbackSharedStoreNoDuplicates) {
    const auto r = two_failovers_one_failback(true);
    EXPECT_EQ(r.duplicates, 0u) << "servers sharing a resume store: exactly once";
}
