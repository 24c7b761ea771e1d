// The client's queue of events for async_wait_event is bounded by
// client_config::event_queue_capacity: beyond it the oldest event goes and is counted
// (client_stats::events_dropped); at 0 an application that takes events through the callback
// only keeps nothing queued. The events come from a real server on 127.0.0.1 that accepts and
// closes every connection, so the client reconnects until its give-up rule fires.
#include "client_test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/core/reconnect_budget.hpp>
#include <heartbeat/server/server.hpp>

#include <gtest/gtest.h>

#include <optional>
#include <vector>

using namespace heartbeat;
using namespace std::chrono_literals;
namespace ht = heartbeat::test;
namespace cs = heartbeat::test::client_support;
namespace asio = boost::asio;

namespace {

struct finished_client {
    std::vector<cs::timed_event> seen; // through the callback, all of them
    client_stats stats;
    // What async_wait_event gives afterwards, until it reports the end: the queued events.
    std::vector<client_event> queued;
    boost::system::error_code wait_end;
};

finished_client run_until_given_up(std::size_t event_queue_capacity) {
    server_config scfg;
    scfg.max_sessions = 0; // every peer is accepted and closed at once
    cs::threaded_server server(0, scfg);

    asio::io_context ioc;
    client_config cfg;
    cfg.backoff.initial = 10ms;
    cfg.backoff.max = 20ms;
    cfg.connect_timeout = 1s;
    cfg.give_up.max_attempts = 4;
    cfg.event_queue_capacity = event_queue_capacity;
    reconnect_budget budget({.rate_per_second = 50.0, .burst = 5.0});
    cfg.budget = &budget;
    cs::event_log events;
    client c(ioc.get_executor(), {cs::local_endpoint_for(server.port())}, cfg, events.callback());
    bool run_done = false;
    c.async_run([&](boost::system::error_code) { run_done = true; });
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return run_done; }, 10s));

    finished_client out;
    out.seen = events.snapshot();
    out.stats = c.stats();
    bool ended = false;
    std::function<void()> next = [&] {
        c.async_wait_event([&](boost::system::error_code ec, client_event e) {
            if (ec) {
                out.wait_end = ec;
                ended = true;
                return;
            }
            out.queued.push_back(std::move(e));
            if (out.queued.size() < 10'000)
                next();
        });
    };
    next();
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return ended; }, 5s));
    return out;
}

} // namespace

TEST(ClientEventQueue, BeyondTheCapacityTheOldestEventsAreDroppedAndCounted) {
    const finished_client r = run_until_given_up(2);
    ASSERT_GE(r.seen.size(), 4u) << "the give-up run produced too few events to overflow";
    EXPECT_EQ(r.stats.events_dropped, r.seen.size() - 2);
    ASSERT_EQ(r.queued.size(), 2u);
    // The newest two survive, in order.
    EXPECT_EQ(r.queued[0].kind, r.seen[r.seen.size() - 2].event.kind);
    EXPECT_EQ(r.queued[1].kind, r.seen.back().event.kind);
    EXPECT_EQ(r.queued[1].kind, client_event_kind::gave_up);
    EXPECT_EQ(r.wait_end, error::all_endpoints_failed);
}

TEST(ClientEventQueue, CapacityZeroQueuesNothingAndDropsNothing) {
    const finished_client r = run_until_given_up(0);
    ASSERT_GE(r.seen.size(), 4u);
    EXPECT_EQ(r.stats.events_dropped, 0u);
    EXPECT_TRUE(r.queued.empty()) << r.queued.size() << " events were queued at capacity 0";
    EXPECT_EQ(r.wait_end, error::all_endpoints_failed);
}

TEST(ClientEventQueue, TheDefaultCapacityKeepsEveryEventOfARun) {
    const finished_client r = run_until_given_up(client_config{}.event_queue_capacity);
    EXPECT_EQ(r.stats.events_dropped, 0u);
    ASSERT_EQ(r.queued.size(), r.seen.size());
    for (std::size_t i = 0; i < r.seen.size(); ++i)
        EXPECT_EQ(r.queued[i].kind, r.seen[i].event.kind) << "event " << i;
}
