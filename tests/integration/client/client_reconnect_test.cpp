// The client supervisor against one server that goes away and comes back on the same port:
// events closed -> (connecting, closed, reconnecting)* -> connecting -> connected, backoff delays
// within the policy, and the resumed logical session delivers every message exactly once when
// both server incarnations share the resume store (at-least-once when they do not).
#include "client_test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/core/reconnect_budget.hpp>
#include <heartbeat/server/server.hpp>
#include <heartbeat/session/resume_store.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

using namespace heartbeat;
using namespace std::chrono_literals;
namespace ht = heartbeat::test;
namespace cs = heartbeat::test::client_support;
namespace asio = boost::asio;

namespace {

struct restart_result {
    std::uint64_t acked_when_closed = 0; // client's ACKed count when the first session ended
    std::uint64_t delivered_before = 0;  // what the first incarnation delivered
    std::uint64_t duplicates = 0;
    std::uint64_t lost = 0;
    bool globally_increasing = false; // across both incarnations
    client_stats stats;
};

constexpr std::uint64_t burst_messages = 500; // sent at once before the server goes away
constexpr std::uint64_t total_messages = 2000;

// Base of the n-th reconnect delay (n = 0, 1, ...) of `b`.
duration base_of(const backoff_config& b, unsigned n) {
    const double ns = std::min(static_cast<double>(b.max.count()),
                               static_cast<double>(b.initial.count()) * std::pow(b.multiplier, n));
    return duration(static_cast<duration::rep>(std::llround(ns)));
}

restart_result restart_scenario(bool share_resume_store) {
    restart_result out;
    cs::delivery_log log;
    server_config scfg;
    scfg.session = ht::fast_config(500ms, 500ms, 3);
    scfg.echo = false;
    // ACKs only every 64 messages or riding on another write: at the moment the server goes away
    // some delivered messages are not yet ACKed, so the client re-sends messages the first
    // incarnation already delivered, and only the resume store can drop them.
    scfg.session.ack_delay = 30s;
    if (share_resume_store)
        scfg.session.resume = std::make_shared<resume_store>();

    auto server = std::make_unique<cs::threaded_server>(0, scfg, log.callbacks(0));
    const unsigned short port = server->port();

    asio::io_context ioc;
    client_config cfg;
    cfg.session = ht::fast_config(500ms, 500ms, 3);
    cfg.backoff.initial = 50ms;
    cfg.backoff.multiplier = 2.0;
    cfg.backoff.max = 400ms;
    cfg.connect_timeout = 1s;
    cfg.use_reconnect_budget = false;
    cs::event_log events;
    std::uint64_t acked_when_closed = 0;
    bool first_closed_seen = false;
    client* cp = nullptr;
    auto record = events.callback();
    client c(ioc.get_executor(), {cs::local_endpoint_for(port)}, cfg, [&](const client_event& e) {
        record(e);
        if (e.kind == client_event_kind::closed && !first_closed_seen) {
            first_closed_seen = true;
            acked_when_closed = cp->stats().messages_acked;
        }
    });
    cp = &c;
    bool run_done = false;
    boost::system::error_code run_end;
    c.async_run([&](boost::system::error_code ec) { run_end = ec, run_done = true; });

    // The sender sends up to `target` (the test moves it), then streams the rest paced.
    std::uint64_t accepted = 0;
    std::uint64_t target = burst_messages;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer pace(ioc);
            for (std::uint64_t i = 1; i <= total_messages; ++i) {
                for (int waits = 0; i > target && waits < 10000; ++waits) {
                    pace.expires_after(2ms);
                    co_await pace.async_wait(asio::use_awaitable);
                }
                auto [ec, seq] = co_await c.async_send("message " + std::to_string(i),
                                                       asio::as_tuple(asio::use_awaitable));
                if (ec || seq != i)
                    co_return;
                accepted = i;
                if (target == total_messages && i % 10 == 0) { // ~1 message per ms
                    pace.expires_after(10ms);
                    co_await pace.async_wait(asio::use_awaitable);
                }
            }
        },
        asio::detached);

    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return log.delivered() >= burst_messages; }, 10s))
        << "the first incarnation should deliver the first burst";
    // Single messages until the last one delivered is not ACKed yet (the server ACKs every 64
    // messages, or on another write, or after ack_delay = 30 s): at most 65 rounds.
    for (int round = 0; round < 70; ++round) {
        ++target;
        ht::run_until(
            ioc, [&] { return log.max_seq() >= target; }, 2s);
        ht::run_for(ioc, 5ms); // an ACK the server sent has arrived by now
        if (c.stats().messages_acked < target)
            break;
    }
    EXPECT_LT(c.stats().messages_acked, log.max_seq()) << "scenario precondition";
    const std::size_t mark = events.size();
    // The server goes away: CLOSE to its peer, listener closed, thread stopped, object destroyed.
    const time_point down_at = clock::now();
    EXPECT_TRUE(server->shutdown(3000ms));
    server.reset();
    out.delivered_before = log.delivered();
    target = total_messages;

    // Let the client fail at least twice against the closed port, so it backs off for real.
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return events.count(client_event_kind::reconnecting, mark) >= 2; }, 10s))
        << events.describe(mark);
    // The same server comes back on the same port.
    server = std::make_unique<cs::threaded_server>(port, scfg, log.callbacks(1));
    const time_point up_at = clock::now();
    EXPECT_EQ(server->port(), port);

    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return accepted == total_messages && c.stats().unacked == 0; }, 30s))
        << "accepted " << accepted << ", unacked " << c.stats().unacked;
    c.close();
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return run_done; }, 10s));
    EXPECT_EQ(run_end, error::session_closed);
    server->shutdown(2000ms);

    // Events after the loss: closed, then failed attempts with back-off, then connected.
    const auto all = events.snapshot();
    std::vector<cs::timed_event> after(all.begin() + static_cast<std::ptrdiff_t>(mark), all.end());
    std::vector<cs::timed_event> flow;
    for (auto& t : after)
        if (t.event.kind == client_event_kind::closed ||
            t.event.kind == client_event_kind::connecting ||
            t.event.kind == client_event_kind::connected ||
            t.event.kind == client_event_kind::reconnecting)
            flow.push_back(t);
    const std::string trace = events.describe(mark);
    EXPECT_GE(flow.size(), 8u) << trace;
    if (flow.size() >= 8) {
        EXPECT_EQ(flow[0].event.kind, client_event_kind::closed) << trace;
        EXPECT_EQ(flow[0].event.reason, error::peer_closed) << trace;
        // Then rounds of: connecting, closed (refused), reconnecting; the last round connects.
        // (A back-off may also come right after the session ended, before the first attempt.)
        std::size_t i = 1;
        unsigned backoffs = 0;
        if (flow[1].event.kind == client_event_kind::reconnecting) {
            EXPECT_LE(flow[1].event.delay, base_of(cfg.backoff, 0));
            ++backoffs;
            i = 2;
        }
        while (i + 2 < flow.size() && flow[i + 1].event.kind == client_event_kind::closed) {
            EXPECT_EQ(flow[i].event.kind, client_event_kind::connecting) << trace;
            EXPECT_EQ(flow[i + 1].event.reason, asio::error::connection_refused) << trace;
            EXPECT_EQ(flow[i + 2].event.kind, client_event_kind::reconnecting) << trace;
            const duration delay = flow[i + 2].event.delay;
            EXPECT_GE(delay, duration::zero());
            EXPECT_LE(delay, base_of(cfg.backoff, backoffs))
                << "reconnect delay " << backoffs << " above its base";
            if (i + 3 < flow.size()) {
                EXPECT_EQ(flow[i + 3].event.kind, client_event_kind::connecting) << trace;
                // The client really waited the announced delay before the next attempt (on
                // its own clock: the callbacks that report the events may run late).
                EXPECT_GE(flow[i + 3].event.at - flow[i + 2].event.at, delay) << trace;
            }
            ++backoffs;
            i += 3;
        }
        EXPECT_GE(backoffs, 2u) << trace;
        EXPECT_LT(i + 1, flow.size()) << trace;
        if (i + 1 >= flow.size())
            i = flow.size() - 2;
        EXPECT_EQ(flow[i].event.kind, client_event_kind::connecting) << trace;
        EXPECT_EQ(flow[i + 1].event.kind, client_event_kind::connected) << trace;
        EXPECT_GE(flow[i + 1].at, up_at) << trace;
        std::printf("closed after %.1f ms; %u backoffs; reconnected %.1f ms after restart\n",
                    cs::ms_between(down_at, flow[0].at), backoffs,
                    cs::ms_between(up_at, flow[i + 1].at));
    }

    out.stats = c.stats();
    out.acked_when_closed = acked_when_closed;
    EXPECT_EQ(out.stats.sessions, 2u);
    std::lock_guard lock(log.mutex);
    for (std::uint64_t seq = 1; seq <= total_messages; ++seq) {
        if (log.count[seq] < 1)
            ++out.lost;
        if (log.count[seq] > 1)
            out.duplicates += static_cast<std::uint64_t>(log.count[seq] - 1);
    }
    EXPECT_EQ(out.lost, 0u) << "messages lost";
    EXPECT_EQ(log.out_of_order, 0) << "each connection delivers in increasing order";
    EXPECT_LE(out.duplicates, out.stats.messages_resent);
    out.globally_increasing =
        std::adjacent_find(log.order.begin(), log.order.end(),
                           std::greater_equal<std::uint64_t>()) == log.order.end();
    std::printf("acked when closed %llu of %llu delivered; resent %llu; duplicates %llu\n",
                static_cast<unsigned long long>(out.acked_when_closed),
                static_cast<unsigned long long>(out.delivered_before),
                static_cast<unsigned long long>(out.stats.messages_resent),
                static_cast<unsigned long long>(out.duplicates));
    return out;
}

} // namespace

TEST(ClientReconnect, SameServerRestartedOnSamePortResumesExactlyOnce) {
    const auto r = restart_scenario(true);
    // Precondition of the scenario: messages delivered but not ACKed were re-sent, so exactly-once
    // really depended on the resume store.
    EXPECT_LT(r.acked_when_closed, r.delivered_before);
    EXPECT_GT(r.stats.messages_resent, 0u);
    EXPECT_EQ(r.duplicates, 0u) << "same server, same resume store: exactly once";
    EXPECT_TRUE(r.globally_increasing) << "in order across both incarnations";
}

// Control: without a shared store the restarted server cannot know what its predecessor
// delivered, so the re-sent messages arrive twice (at-least-once, bounded by the re-sends).
// This is what the exactly-once test above would see if resume did not work.
TEST(ClientReconnect, RestartWithoutSharedResumeStoreIsAtLeastOnce) {
    const auto r = restart_scenario(false);
    EXPECT_GT(r.duplicates, 0u);
    EXPECT_EQ(r.duplicates, r.delivered_before - r.acked_when_closed)
        << "exactly the delivered-but-unacknowledged messages arrive twice";
}

// A server that accepts every TCP connection and closes it at once (over its session limit, or
// a proxy in front of a dead backend) must not make the client reconnect as fast as the budget
// allows forever: the client should back off between such attempts and the give-up rule should
// count them as failures.
TEST(ClientReconnect, ServerThatAcceptsAndClosesIsBackedOffAndGivenUpOn) {
    server_config scfg;
    scfg.max_sessions = 0; // every peer is accepted and closed at once
    cs::threaded_server server(0, scfg);

    asio::io_context ioc;
    client_config cfg;
    cfg.backoff.initial = 20ms;
    cfg.backoff.multiplier = 2.0;
    cfg.backoff.max = 160ms;
    cfg.connect_timeout = 1s;
    cfg.give_up.max_attempts = 5;
    // A dedicated budget keeps a misbehaving client from flooding the machine (at most ~50/s).
    reconnect_budget budget({.rate_per_second = 50.0, .burst = 5.0});
    cfg.budget = &budget;
    cs::event_log events;
    client c(ioc.get_executor(), {cs::local_endpoint_for(server.port())}, cfg, events.callback());
    bool run_done = false;
    boost::system::error_code run_end;
    c.async_run([&](boost::system::error_code ec) { run_end = ec, run_done = true; });

    // With back-off, 5 attempts need at most 20 + 40 + 80 + 160 ms of waiting.
    const bool gave_up = ht::run_until(
        ioc, [&] { return run_done; }, 2s);
    const auto stats = c.stats();
    if (!run_done) {
        c.cancel();
        ht::run_until(
            ioc, [&] { return run_done; }, 5s);
    }
    std::printf("in 2 s: %llu attempts, %llu 'sessions', %zu reconnecting events, gave up: %d\n",
                static_cast<unsigned long long>(stats.attempts),
                static_cast<unsigned long long>(stats.sessions),
                events.count(client_event_kind::reconnecting), gave_up ? 1 : 0);
    EXPECT_TRUE(gave_up) << "give_up.max_attempts = 5 never fired";
    if (gave_up)
        EXPECT_EQ(run_end, error::all_endpoints_failed);
    EXPECT_EQ(events.count(client_event_kind::gave_up), gave_up ? 1u : 0u);
    EXPECT_LE(stats.attempts, 5u);
    EXPECT_GE(events.count(client_event_kind::reconnecting), 1u)
        << "no back-off between attempts that were accepted and dropped";
}

// The other way a server goes away: its io_context is stopped (the process is being torn down,
// a crash staged in-process) and the server and io_context are destroyed without close() having
// run. The listener and the peers' sockets must still be closed: peers should see the connection
// end at once (not only after their silence budget), and a new server must be able to bind the
// same port.
TEST(ClientReconnect, ServerTornDownWithItsIoContextStoppedReleasesItsPortAndPeers) {
    server_config scfg;
    scfg.session = ht::fast_config(100ms, 100ms, 3);
    auto server = std::make_unique<cs::threaded_server>(0, scfg);
    const unsigned short port = server->port();

    asio::io_context ioc;
    client_config cfg;
    cfg.session = ht::fast_config(100ms, 100ms, 3); // silence budget 400 ms
    cfg.backoff.initial = 50ms;
    cfg.backoff.max = 200ms;
    cfg.connect_timeout = 500ms;
    cfg.use_reconnect_budget = false;
    cs::event_log events;
    client c(ioc.get_executor(), {cs::local_endpoint_for(port)}, cfg, events.callback());
    bool run_done = false;
    c.async_run([&](boost::system::error_code) { run_done = true; });
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return c.stats().connected; }, 5s));
    ht::run_for(ioc, 200ms);

    const std::size_t mark = events.size();
    const time_point crashed_at = clock::now();
    server->crash();
    server.reset();
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return events.count(client_event_kind::closed, mark) >= 1; }, 5s));
    std::optional<cs::timed_event> closed;
    for (auto& t : events.snapshot())
        if (t.event.kind == client_event_kind::closed)
            closed = t;
    ASSERT_TRUE(closed.has_value());
    const double detect_ms = cs::ms_between(crashed_at, closed->at);
    std::printf("session ended %.0f ms after the teardown, reason %s\n", detect_ms,
                closed->event.reason.message().c_str());
    EXPECT_NE(closed->event.reason, error::peer_dead)
        << "the server's sockets stayed open: the client only noticed through its heartbeat";
    EXPECT_LT(detect_ms, 300.0);

    std::unique_ptr<cs::threaded_server> again;
    try {
        again = std::make_unique<cs::threaded_server>(port, scfg);
    } catch (const std::exception& e) {
        ADD_FAILURE() << "restart on port " << port << " failed: " << e.what()
                      << " (the old listener was never closed)";
    }
    if (again) {
        EXPECT_TRUE(ht::run_until(
            ioc, [&] { return events.count(client_event_kind::connected, mark) >= 1; }, 5s))
            << events.describe(mark);
    }
    c.close();
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return run_done; }, 5s));
}
