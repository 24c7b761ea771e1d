// The WebSocket session's completions: never inline -- an operation started from a handler
// running on the session's executor (where dispatch would run inline) completes only after
// the initiating call returned, including on the hot path, where the writer is resumed inside
// async_send and send/receive handlers are invoked straight from the run loop -- and a
// handler bound to another executor always runs on that executor.
#include "websocket_test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <atomic>
#include <stdexcept>
#include <thread>
#include <vector>

using namespace heartbeat;
using namespace heartbeat::wstest;

namespace {

// Two connected websocket sessions on one io_context; `peer` runs and echoes when asked.
struct ws_session_pair {
    asio::io_context ioc;
    std::optional<ws_session> peer;
    std::optional<ws_session> client;
    bool peer_ended = false;

    ws_session_pair() {
        auto ends = upgrade_pair(ioc);
        EXPECT_TRUE(ends.upgraded);
        peer.emplace(std::move(ends.server), fast_ws_config(100ms, 1000ms, 3));
        client.emplace(std::move(ends.client), fast_ws_config(100ms, 1000ms, 3));
        peer->async_run([this](boost::system::error_code) { peer_ended = true; });
    }
    ~ws_session_pair() {
        client->close();
        peer->close();
        run_until(
            ioc, [&] { return peer_ended; }, 5s);
    }
    // The peer sends back every message it receives, until it ends.
    void echo_forever() {
        peer->async_receive([this](boost::system::error_code ec, websocket_message m) {
            if (ec)
                return;
            peer->async_send(std::move(m.payload), asio::detached);
            echo_forever();
        });
    }
};

} // namespace

TEST(WebSocketCompletion, NothingCompletesInline) {
    ws_session_pair p;
    int checked = 0, inline_completions = 0;
    // Runs `start(done)` on the executor; `done` must not be called before `start` returns.
    const auto expect_deferred = [&](const char* what, auto start) {
        bool returned = false, called = false;
        asio::post(p.ioc, [&] {
            start([&] {
                called = true;
                if (!returned) {
                    ++inline_completions;
                    ADD_FAILURE() << what << " completed inline";
                }
            });
            returned = true;
        });
        EXPECT_TRUE(run_until(
            p.ioc, [&] { return called; }, 5s))
            << what << " never completed";
        ++checked;
    };

    // An invalid config: async_run and async_send fail at once.
    websocket::stream<tcp::socket> unused(p.ioc);
    websocket_session_config bad;
    bad.heartbeat.interval = duration::zero();
    ws_session invalid(std::move(unused), bad);
    boost::system::error_code invalid_ec, invalid_send_ec;
    expect_deferred("async_run(invalid config)", [&](auto done) {
        invalid.async_run([&, done](boost::system::error_code ec) {
            invalid_ec = ec;
            done();
        });
    });
    EXPECT_EQ(invalid_ec, error::invalid_config);
    expect_deferred("async_send(invalid config)", [&](auto done) {
        invalid.async_send("x", [&, done](boost::system::error_code ec) {
            invalid_send_ec = ec;
            done();
        });
    });
    EXPECT_EQ(invalid_send_ec, error::invalid_config);

    bool run_done = false;
    boost::system::error_code run_reason;
    p.client->async_run([&](boost::system::error_code ec) {
        run_reason = ec;
        run_done = true;
    });
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return p.client->stats().state == peer_state::alive; }, 5s));

    boost::system::error_code again_ec;
    expect_deferred("second async_run", [&](auto done) {
        p.client->async_run([&, done](boost::system::error_code ec) {
            again_ec = ec;
            done();
        });
    });
    EXPECT_EQ(again_ec, asio::error::already_started);

    // The hot path: the writer is parked, async_send resumes it and its frame is written
    // before async_send returns; the completion must still come later.
    boost::system::error_code send_ec;
    expect_deferred("async_send(writer idle)", [&](auto done) {
        p.client->async_send("hello", [&, done](boost::system::error_code ec) {
            send_ec = ec;
            done();
        });
    });
    EXPECT_FALSE(send_ec) << send_ec.message();
    std::string hello;
    p.peer->async_receive(
        [&](boost::system::error_code, websocket_message m) { hello = std::move(m.payload); });
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return !hello.empty(); }, 5s));
    EXPECT_EQ(hello, "hello");

    // A message already waiting in the inbox.
    p.peer->async_send("waiting", asio::detached);
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return p.client->stats().queued_receive_bytes > 0; }, 5s));
    std::string got;
    expect_deferred("async_receive(message waiting)", [&](auto done) {
        p.client->async_receive([&, done](boost::system::error_code, websocket_message m) {
            got = std::move(m.payload);
            done();
        });
    });
    EXPECT_EQ(got, "waiting");

    // Operations started from handlers the run loop invoked directly: a send from inside a
    // receive completion (invoked from the reader) and a receive with a message waiting from
    // inside a send completion (invoked from the writer).
    p.echo_forever();
    bool nested_send_done = false, nested_send_returned = false;
    bool nested_receive_done = false, nested_receive_returned = false;
    std::string nested_got;
    p.client->async_receive([&](boost::system::error_code ec, websocket_message m) {
        ASSERT_FALSE(ec) << ec.message();
        EXPECT_EQ(m.payload, "ping-pong");
        p.client->async_send("from a receive handler", [&](boost::system::error_code sec) {
            EXPECT_FALSE(sec) << sec.message();
            if (!nested_send_returned) {
                ++inline_completions;
                ADD_FAILURE() << "async_send from a receive handler completed inline";
            }
            nested_send_done = true;
        });
        nested_send_returned = true;
    });
    p.client->async_send("ping-pong", asio::detached);
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return nested_send_done; }, 5s));
    // The echo of "from a receive handler" arrives meanwhile; take it from a send handler.
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return p.client->stats().queued_receive_bytes > 0; }, 5s));
    p.client->async_send("x", [&](boost::system::error_code sec) {
        EXPECT_FALSE(sec) << sec.message();
        p.client->async_receive([&](boost::system::error_code ec, websocket_message m) {
            EXPECT_FALSE(ec) << ec.message();
            nested_got = std::move(m.payload);
            if (!nested_receive_returned) {
                ++inline_completions;
                ADD_FAILURE() << "async_receive from a send handler completed inline";
            }
            nested_receive_done = true;
        });
        nested_receive_returned = true;
    });
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return nested_receive_done; }, 5s));
    EXPECT_EQ(nested_got, "from a receive handler");
    // Take the echo of "x" so the inbox is empty again.
    bool x_taken = false;
    p.client->async_receive([&](boost::system::error_code, websocket_message) { x_taken = true; });
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return x_taken; }, 5s));

    // A second receive while one is pending.
    bool first_receive_done = false;
    boost::system::error_code second_receive_ec;
    p.client->async_receive(
        [&](boost::system::error_code, websocket_message) { first_receive_done = true; });
    expect_deferred("async_receive(already pending)", [&](auto done) {
        p.client->async_receive([&, done](boost::system::error_code ec, websocket_message) {
            second_receive_ec = ec;
            done();
        });
    });
    EXPECT_EQ(second_receive_ec, asio::error::already_started);

    // Events already queued (the state change of the start, RTT samples).
    bool event_ok = false;
    expect_deferred("async_wait_event(events queued)", [&](auto done) {
        p.client->async_wait_event([&, done](boost::system::error_code ec, session_event) {
            event_ok = !ec;
            done();
        });
    });
    EXPECT_TRUE(event_ok);

    // Sends after the session ended, and a receive after it ended with nothing left.
    p.client->close();
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return run_done && first_receive_done; }, 5s));
    EXPECT_EQ(run_reason, error::session_closed);
    boost::system::error_code late_send_ec, late_receive_ec;
    expect_deferred("async_send(after end)", [&](auto done) {
        p.client->async_send("too late", [&, done](boost::system::error_code ec) {
            late_send_ec = ec;
            done();
        });
    });
    EXPECT_EQ(late_send_ec, error::session_closed);
    expect_deferred("async_receive(after end)", [&](auto done) {
        p.client->async_receive([&, done](boost::system::error_code ec, websocket_message) {
            late_receive_ec = ec;
            done();
        });
    });
    EXPECT_EQ(late_receive_ec, error::session_closed);

    EXPECT_EQ(checked, 9);
    EXPECT_EQ(inline_completions, 0);
}

TEST(WebSocketCompletion, HandlersBoundToAnotherExecutorRunThere) {
    ws_session_pair p;
    p.echo_forever();
    bool run_done = false;
    p.client->async_run([&](boost::system::error_code) { run_done = true; });
    auto strand = asio::make_strand(p.ioc);
    int sends_on_strand = 0, receives_on_strand = 0, completions = 0;
    constexpr int kMessages = 20;
    for (int i = 0; i < kMessages; ++i) {
        p.client->async_receive(
            asio::bind_executor(strand, [&](boost::system::error_code ec, websocket_message) {
                EXPECT_FALSE(ec) << ec.message();
                receives_on_strand += strand.running_in_this_thread() ? 1 : 0;
                ++completions;
            }));
        p.client->async_send(std::to_string(i),
                             asio::bind_executor(strand, [&](boost::system::error_code ec) {
                                 EXPECT_FALSE(ec) << ec.message();
                                 sends_on_strand += strand.running_in_this_thread() ? 1 : 0;
                                 ++completions;
                             }));
        const int want = 2 * (i + 1);
        ASSERT_TRUE(run_until(
            p.ioc, [&] { return completions == want; }, 5s));
    }
    EXPECT_EQ(sends_on_strand, kMessages);
    EXPECT_EQ(receives_on_strand, kMessages);
    p.client->close();
    EXPECT_TRUE(run_until(
        p.ioc, [&] { return run_done; }, 5s));
}

// A handler that throws, invoked straight from the run loop: the exception leaves
// io_context::run() as from a posted handler, and the session carries on.
TEST(WebSocketCompletion, AHandlerThatThrowsLeavesRunAndTheSessionCarriesOn) {
    ws_session_pair p;
    p.echo_forever();
    bool run_done = false;
    p.client->async_run([&](boost::system::error_code) { run_done = true; });
    p.client->async_receive([](boost::system::error_code ec, websocket_message) {
        if (!ec)
            throw std::runtime_error("application handler failed");
    });
    p.client->async_send("first", asio::detached);
    ASSERT_TRUE(run_until_thrown(p.ioc, "application handler failed", 5s))
        << "the handler's exception did not leave io_context::run()";
    std::string second;
    p.client->async_receive(
        [&](boost::system::error_code, websocket_message m) { second = std::move(m.payload); });
    p.client->async_send("second", asio::detached);
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return !second.empty(); }, 5s));
    EXPECT_EQ(second, "second");
    EXPECT_EQ(p.client->stats().state, peer_state::alive);
    EXPECT_FALSE(run_done);
    p.client->close();
    EXPECT_TRUE(run_until(
        p.ioc, [&] { return run_done; }, 5s));
}

// The shortcuts (no dispatch when already on the executor, the writer resumed inside
// async_send, handlers invoked from the run loop) on a strand of an io_context run by two
// threads, with sends also started from a thread that runs no handlers at all.
TEST(WebSocketCompletion, EchoOnStrandsWithTwoThreadsKeepsOrder) {
    asio::io_context ioc(2);
    auto ends =
        upgrade_pair(ioc, tcp::socket(asio::make_strand(ioc)), tcp::socket(asio::make_strand(ioc)));
    ASSERT_TRUE(ends.upgraded);
    ws_session peer(std::move(ends.server), fast_ws_config(100ms, 1000ms, 3));
    ws_session client(std::move(ends.client), fast_ws_config(100ms, 1000ms, 3));
    std::atomic<bool> peer_ended{false}, client_ended{false};
    peer.async_run([&](boost::system::error_code) { peer_ended = true; });
    client.async_run([&](boost::system::error_code) { client_ended = true; });

    // The peer echoes on its strand.
    asio::co_spawn(
        peer.get_executor(),
        [&]() -> asio::awaitable<void> {
            for (;;) {
                auto [ec, m] = co_await peer.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
                co_await peer.async_send(std::move(m.payload), asio::as_tuple(asio::use_awaitable));
            }
        },
        asio::detached);

    // Round trips from a coroutine on the client's strand, interleaved with sends started
    // from the test's own thread: every echo must come back whole and in its sender's order.
    constexpr int kTrips = 2000, kForeign = 200;
    std::atomic<int> trips_done{0}, foreign_sent{0}, foreign_echoed{0}, disorder{0};
    std::atomic<bool> wrong_thread{false};
    asio::co_spawn(
        client.get_executor(),
        [&]() -> asio::awaitable<void> {
            int next_trip = 0, next_foreign = 0;
            while (trips_done < kTrips || foreign_echoed < kForeign) {
                if (trips_done < kTrips) {
                    auto [sec] = co_await client.async_send("t" + std::to_string(next_trip),
                                                            asio::as_tuple(asio::use_awaitable));
                    if (sec)
                        co_return;
                }
                // Take echoes until our own comes back; foreign ones may arrive in between.
                for (;;) {
                    auto [ec, m] =
                        co_await client.async_receive(asio::as_tuple(asio::use_awaitable));
                    if (ec)
                        co_return;
                    if (!client.get_executor()
                             .target<asio::strand<asio::io_context::executor_type>>()
                             ->running_in_this_thread())
                        wrong_thread = true;
                    if (m.payload[0] == 'f') {
                        if (m.payload != "f" + std::to_string(next_foreign++))
                            ++disorder;
                        ++foreign_echoed;
                        if (trips_done >= kTrips)
                            break;
                        continue;
                    }
                    if (m.payload != "t" + std::to_string(next_trip++))
                        ++disorder;
                    ++trips_done;
                    break;
                }
            }
            client.close();
        },
        asio::detached);

    std::vector<std::thread> threads;
    for (int i = 0; i < 2; ++i)
        threads.emplace_back([&] { ioc.run_for(30s); });
    for (int i = 0; i < kForeign; ++i) {
        client.async_send("f" + std::to_string(i), [&](boost::system::error_code ec) {
            if (!ec)
                ++foreign_sent;
        });
        if (i % 16 == 0)
            std::this_thread::sleep_for(1ms);
    }
    const bool ended = wait_until([&] { return client_ended && peer_ended; }, 25s);
    ioc.stop();
    for (auto& t : threads)
        t.join();
    ASSERT_TRUE(ended) << "trips " << trips_done << ", foreign echoed " << foreign_echoed;
    EXPECT_EQ(trips_done, kTrips);
    EXPECT_EQ(foreign_sent, kForeign);
    EXPECT_EQ(foreign_echoed, kForeign);
    EXPECT_EQ(disorder, 0);
    EXPECT_FALSE(wrong_thread);
}

// asio::deferred: each operation is a value that starts only when launched, then completes as
// with any other token.
TEST(WebSocketCompletion, DeferredOperationsStartOnlyWhenLaunched) {
    ws_session_pair p;
    std::string peer_got;
    p.peer->async_receive([&](boost::system::error_code ec, websocket_message m) {
        if (ec)
            return;
        peer_got = m.payload;
        p.peer->async_send(std::move(m.payload), asio::detached);
    });
    auto run = p.client->async_run(asio::deferred);
    auto send = p.client->async_send("deferred hello", asio::deferred);
    auto receive = p.client->async_receive(asio::deferred);
    heartbeat::test::run_for(p.ioc, 50ms);
    EXPECT_TRUE(peer_got.empty()) << "a deferred async_send started before it was launched";

    std::optional<boost::system::error_code> run_reason, send_result;
    std::string reply;
    std::move(run)([&](boost::system::error_code ec) { run_reason = ec; });
    std::move(send)([&](boost::system::error_code ec) { send_result = ec; });
    std::move(receive)([&](boost::system::error_code ec, websocket_message m) {
        if (!ec)
            reply = std::move(m.payload);
    });
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return !reply.empty() && send_result; }, 5s));
    EXPECT_EQ(peer_got, "deferred hello");
    EXPECT_EQ(reply, "deferred hello");
    EXPECT_FALSE(*send_result) << send_result->message();
    p.client->close();
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return run_reason.has_value(); }, 5s));
    EXPECT_EQ(*run_reason, error::session_closed) << run_reason->message();
}

// A session callback (not a completion handler) that throws ends the session with the
// exception's error, as on a byte-stream session: here on_rtt, called when our ping's pong
// arrives inside Beast's read. Nothing leaves io_context::run().
TEST(WebSocketCompletion, ACallbackThatThrowsEndsTheSession) {
    asio::io_context ioc;
    auto ends = upgrade_pair(ioc);
    ASSERT_TRUE(ends.upgraded);
    ws_session peer(std::move(ends.server), fast_ws_config(100ms, 1000ms, 3));
    bool peer_done = false;
    peer.async_run([&](boost::system::error_code) { peer_done = true; });
    session_callbacks cb;
    cb.on_rtt = [](duration, const rtt_estimator&) {
        throw boost::system::system_error(error::unexpected_reply);
    };
    ws_session client(std::move(ends.client), fast_ws_config(100ms, 1000ms, 3), cb);
    std::optional<boost::system::error_code> reason;
    client.async_run([&](boost::system::error_code ec) { reason = ec; });
    ASSERT_TRUE(run_until(
        ioc, [&] { return reason.has_value() && peer_done; }, 10s))
        << "the session did not end after its callback threw";
    EXPECT_EQ(*reason, error::unexpected_reply) << reason->message();
}
