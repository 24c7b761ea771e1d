// Asio's universal async model on the session: completion tokens (callbacks, use_future),
// per-operation cancellation through cancellation slots (operation_aborted), and never an inline
// completion: an operation started from a handler running on the session's executor (where
// dispatch would run inline) completes only after the initiating call returned.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/post.hpp>

#include <future>
#include <stdexcept>
#include <thread>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

// Two connected sessions on one io_context; `peer` runs and can echo.
struct session_pair {
    asio::io_context ioc;
    std::optional<tcp_session> peer;
    std::optional<tcp_session> client;
    bool peer_ended = false;
    boost::system::error_code peer_reason;

    explicit session_pair(session_config client_cfg = fast_config(100ms, 1000ms, 3)) {
        auto [a, b] = tcp_pair(ioc);
        peer.emplace(std::move(a), fast_config(100ms, 1000ms, 3));
        client.emplace(std::move(b), client_cfg);
        peer->async_run([this](boost::system::error_code ec) {
            peer_reason = ec;
            peer_ended = true;
        });
    }
    ~session_pair() {
        if (client)
            client->close();
        peer->close();
        run_until(
            ioc, [&] { return peer_ended; }, 5s);
    }
};

const asio::cancellation_type kCancellationTypes[] = {asio::cancellation_type::terminal,
                                                      asio::cancellation_type::partial,
                                                      asio::cancellation_type::total};

const char* name_of(asio::cancellation_type t) {
    switch (t) {
    case asio::cancellation_type::terminal:
        return "terminal";
    case asio::cancellation_type::partial:
        return "partial";
    case asio::cancellation_type::total:
        return "total";
    default:
        return "other";
    }
}

// The error a use_future future carries (or success).
boost::system::error_code future_error(std::future<void>& f) {
    try {
        f.get();
        return {};
    } catch (const boost::system::system_error& e) {
        return e.code();
    }
}

} // namespace

TEST(SessionCompletion, AsyncRunWithUseFutureCompletesWithOperationAbortedOnCancel) {
    session_pair p;
    std::future<void> run = p.client->async_run(asio::use_future);
    std::thread io([&] { p.ioc.run_for(20s); });
    const bool alive =
        wait_until([&] { return p.client->stats().state == peer_state::alive; }, 10s);
    p.client->cancel(); // from a thread that is not running the io_context
    const bool ready = run.wait_for(10s) == std::future_status::ready;
    p.ioc.stop();
    io.join();
    p.ioc.restart();
    ASSERT_TRUE(alive);
    ASSERT_TRUE(ready) << "async_run did not complete after cancel()";
    EXPECT_EQ(future_error(run), asio::error::operation_aborted);
}

TEST(SessionCompletion, AsyncRunWithUseFutureAndCancellationSlotCompletesWithOperationAborted) {
    for (const auto type : kCancellationTypes) {
        SCOPED_TRACE(name_of(type));
        session_pair p;
        asio::cancellation_signal signal;
        std::future<void> run =
            p.client->async_run(asio::bind_cancellation_slot(signal.slot(), asio::use_future));
        std::thread io([&] { p.ioc.run_for(20s); });
        const bool alive =
            wait_until([&] { return p.client->stats().state == peer_state::alive; }, 10s);
        // A cancellation signal is not thread-safe: emit it on the session's executor.
        asio::post(p.client->get_executor(), [&] { signal.emit(type); });
        const bool ready = run.wait_for(10s) == std::future_status::ready;
        p.ioc.stop();
        io.join();
        p.ioc.restart();
        ASSERT_TRUE(alive);
        ASSERT_TRUE(ready) << "async_run ignored its cancellation slot";
        EXPECT_EQ(future_error(run), asio::error::operation_aborted);
    }
}

TEST(SessionCompletion, AsyncRunCallbackWithCancellationSlotCompletesWithOperationAborted) {
    for (const auto type : kCancellationTypes) {
        SCOPED_TRACE(name_of(type));
        session_pair p;
        asio::cancellation_signal signal;
        bool done = false, emitted = false, emitted_before_completion = false;
        boost::system::error_code reason;
        p.client->async_run(
            asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code ec) {
                reason = ec;
                done = true;
                emitted_before_completion = emitted;
            }));
        ASSERT_TRUE(run_until(
            p.ioc, [&] { return p.client->stats().state == peer_state::alive; }, 10s));
        asio::post(p.ioc, [&] {
            signal.emit(type);
            emitted = true; // must be visible in the handler: it cannot have run inside emit()
        });
        ASSERT_TRUE(run_until(
            p.ioc, [&] { return done; }, 10s));
        EXPECT_EQ(reason, asio::error::operation_aborted);
        EXPECT_TRUE(emitted_before_completion) << "completed inline, inside emit()";
        // The peer learns nothing from a cancelled run except that the transport went away.
        ASSERT_TRUE(run_until(
            p.ioc, [&] { return p.peer_ended; }, 5s));
        EXPECT_TRUE(p.peer_reason == error::peer_closed || p.peer_reason == error::truncated_frame)
            << p.peer_reason.message();
    }
}

TEST(SessionCompletion, AsyncReceiveCancellationCompletesWithOperationAbortedAndSessionGoesOn) {
    for (const auto type : kCancellationTypes) {
        SCOPED_TRACE(name_of(type));
        session_pair p;
        bool run_done = false;
        p.client->async_run([&](boost::system::error_code) { run_done = true; });
        asio::cancellation_signal signal;
        bool done = false, emitted = false, emitted_before_completion = false;
        boost::system::error_code ec;
        std::string got = "untouched";
        asio::post(p.ioc, [&] {
            p.client->async_receive(asio::bind_cancellation_slot(
                signal.slot(), [&](boost::system::error_code e, std::string m) {
                    ec = e;
                    got = std::move(m);
                    done = true;
                    emitted_before_completion = emitted;
                }));
            signal.emit(type); // on the executor, right after the initiating call
            emitted = true;
        });
        ASSERT_TRUE(run_until(
            p.ioc, [&] { return done; }, 5s));
        EXPECT_EQ(ec, asio::error::operation_aborted);
        EXPECT_TRUE(got.empty());
        EXPECT_TRUE(emitted_before_completion) << "completed inline, inside emit()";

        // The session is unharmed: the next receive gets the next message.
        std::string next;
        p.client->async_receive([&](boost::system::error_code e, std::string m) {
            if (!e)
                next = std::move(m);
        });
        p.peer->async_send("after the cancelled receive", asio::detached);
        ASSERT_TRUE(run_until(
            p.ioc, [&] { return !next.empty(); }, 5s));
        EXPECT_EQ(next, "after the cancelled receive");
        EXPECT_FALSE(run_done);
    }
}

TEST(SessionCompletion, AsyncWaitEventCancellationCompletesWithOperationAborted) {
    // A slow heartbeat: once the start's events are taken, no new event comes for seconds.
    session_pair p(fast_config(5000ms, 5000ms, 3));
    p.client->async_run(asio::detached);
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return p.client->stats().state == peer_state::alive; }, 5s));
    // Drain what the start queued (state change, ...), with a bounded number of waits.
    int taken = 0;
    for (bool drained = false; !drained && taken < 10;) {
        bool done = false;
        asio::cancellation_signal s;
        p.client->async_wait_event(
            asio::bind_cancellation_slot(s.slot(), [&](boost::system::error_code e, session_event) {
                done = true;
                drained = e == asio::error::operation_aborted;
                taken += e ? 0 : 1;
            }));
        run_for(p.ioc, 20ms);
        if (!done)
            s.emit(asio::cancellation_type::terminal);
        ASSERT_TRUE(run_until(
            p.ioc, [&] { return done; }, 5s));
    }
    EXPECT_GE(taken, 1) << "the start queued no state change event";

    for (const auto type : kCancellationTypes) {
        SCOPED_TRACE(name_of(type));
        asio::cancellation_signal signal;
        bool done = false, emitted = false, emitted_before_completion = false;
        boost::system::error_code ec;
        asio::post(p.ioc, [&] {
            p.client->async_wait_event(asio::bind_cancellation_slot(
                signal.slot(), [&](boost::system::error_code e, session_event) {
                    ec = e;
                    done = true;
                    emitted_before_completion = emitted;
                }));
            signal.emit(type);
            emitted = true;
        });
        ASSERT_TRUE(run_until(
            p.ioc, [&] { return done; }, 5s));
        EXPECT_EQ(ec, asio::error::operation_aborted);
        EXPECT_TRUE(emitted_before_completion) << "completed inline, inside emit()";
    }
}

TEST(SessionCompletion, AsyncSendCancellationWithdrawsAQueuedMessage) {
    session_pair p;
    p.client->async_run(asio::detached);
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return p.client->stats().state == peer_state::alive; }, 5s));
    std::vector<std::string> at_peer;
    asio::co_spawn(
        p.ioc,
        [&]() -> asio::awaitable<void> {
            for (;;) {
                auto [ec, m] = co_await p.peer->async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
                at_peer.push_back(m.size() > 100 ? "big" : m);
            }
        },
        asio::detached);

    asio::cancellation_signal signal;
    boost::system::error_code first = asio::error::would_block, second = asio::error::would_block,
                              third = asio::error::would_block;
    bool emitted = false, emitted_before_completion = false;
    asio::post(p.ioc, [&] {
        // The big one starts writing; the second waits behind it and is withdrawn.
        p.client->async_send(std::string(8u << 20, 'b'),
                             [&](boost::system::error_code ec) { first = ec; });
        p.client->async_send("second", asio::bind_cancellation_slot(
                                           signal.slot(), [&](boost::system::error_code ec) {
                                               second = ec;
                                               emitted_before_completion = emitted;
                                           }));
        signal.emit(asio::cancellation_type::terminal);
        emitted = true;
        p.client->async_send("third", [&](boost::system::error_code ec) { third = ec; });
    });
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return at_peer.size() >= 2; }, 10s));
    run_for(p.ioc, 100ms);
    EXPECT_EQ(second, asio::error::operation_aborted);
    EXPECT_TRUE(emitted_before_completion) << "completed inline, inside emit()";
    EXPECT_FALSE(first) << first.message();
    EXPECT_FALSE(third) << third.message();
    EXPECT_EQ(at_peer, (std::vector<std::string>{"big", "third"}));
}

// Each way an operation can complete at once, started from a handler on the session's executor:
// the handler must still run later, after the initiating function returned.
TEST(SessionCompletion, NothingCompletesInline) {
    session_pair p;
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

    // An invalid config: async_run fails at once.
    auto [x, y] = tcp_pair(p.ioc);
    session_config bad;
    bad.heartbeat.interval = duration::zero();
    tcp_session invalid(std::move(x), bad);
    boost::system::error_code invalid_ec;
    expect_deferred("async_run(invalid config)", [&](auto done) {
        invalid.async_run([&, done](boost::system::error_code ec) {
            invalid_ec = ec;
            done();
        });
    });
    EXPECT_EQ(invalid_ec, error::invalid_config);
    boost::system::error_code invalid_send_ec;
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

    // A message already waiting in the inbox.
    p.peer->async_send("waiting", asio::detached);
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return p.client->stats().queued_receive_bytes > 0; }, 5s));
    std::string got;
    expect_deferred("async_receive(message waiting)", [&](auto done) {
        p.client->async_receive([&, done](boost::system::error_code, std::string m) {
            got = std::move(m);
            done();
        });
    });
    EXPECT_EQ(got, "waiting");

    // A second receive while one is pending.
    bool first_receive_done = false;
    boost::system::error_code second_receive_ec;
    p.client->async_receive(
        [&](boost::system::error_code, std::string) { first_receive_done = true; });
    expect_deferred("async_receive(already pending)", [&](auto done) {
        p.client->async_receive([&, done](boost::system::error_code ec, std::string) {
            second_receive_ec = ec;
            done();
        });
    });
    EXPECT_EQ(second_receive_ec, asio::error::already_started);

    // Events already queued (the state change and interval events of the start).
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
        p.client->async_receive([&, done](boost::system::error_code ec, std::string) {
            late_receive_ec = ec;
            done();
        });
    });
    EXPECT_EQ(late_receive_ec, error::session_closed);

    EXPECT_EQ(checked, 8);
    EXPECT_EQ(inline_completions, 0);
}

// A receive handler invoked straight from the run loop (no scheduler trip) that throws: the
// exception leaves io_context::run() as it would from a posted handler, and the session is
// unharmed -- the next message arrives and the session stays alive.
TEST(SessionCompletion, AHandlerThatThrowsLeavesRunAndTheSessionCarriesOn) {
    session_pair p;
    bool run_done = false;
    p.client->async_run([&](boost::system::error_code) { run_done = true; });
    p.client->async_receive([](boost::system::error_code ec, std::string) {
        if (!ec)
            throw std::runtime_error("application handler failed");
    });
    p.peer->async_send("first", asio::detached);
    ASSERT_TRUE(run_until_thrown(p.ioc, "application handler failed", 5s))
        << "the handler's exception did not leave io_context::run()";
    std::string second;
    p.client->async_receive(
        [&](boost::system::error_code, std::string m) { second = std::move(m); });
    p.peer->async_send("second", asio::detached);
    ASSERT_TRUE(run_until(
        p.ioc, [&] { return !second.empty(); }, 5s));
    EXPECT_EQ(second, "second");
    EXPECT_EQ(p.client->stats().state, peer_state::alive);
    EXPECT_FALSE(run_done);
}

// asio::deferred: each operation is a value that starts only when launched, then completes as
// with any other token.
TEST(SessionCompletion, DeferredOperationsStartOnlyWhenLaunched) {
    session_pair p;
    std::string peer_got;
    p.peer->async_receive([&](boost::system::error_code ec, std::string m) {
        if (ec)
            return;
        peer_got = m;
        p.peer->async_send(std::move(m), [](boost::system::error_code) {});
    });
    auto run = p.client->async_run(asio::deferred);
    auto send = p.client->async_send("deferred hello", asio::deferred);
    auto receive = p.client->async_receive(asio::deferred);
    run_for(p.ioc, 50ms);
    EXPECT_TRUE(peer_got.empty()) << "a deferred async_send started before it was launched";

    std::optional<boost::system::error_code> run_reason, send_result;
    std::string reply;
    std::move(run)([&](boost::system::error_code ec) { run_reason = ec; });
    std::move(send)([&](boost::system::error_code ec) { send_result = ec; });
    std::move(receive)([&](boost::system::error_code ec, std::string m) {
        if (!ec)
            reply = std::move(m);
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
// exception's error, whichever path called it: here on_state_change, called from the heartbeat
// timer when the peer turns suspect. Nothing leaves io_context::run().
TEST(SessionCompletion, ACallbackThatThrowsOnTheTimerPathEndsTheSession) {
    asio::io_context ioc, peer_ioc; // the peer's loop stops running: it turns silent
    auto [a, b] = tcp_pair(peer_ioc);
    tcp::socket ours(ioc);
    ours.assign(tcp::v4(), b.release());
    tcp_session peer(std::move(a), fast_config(100ms, 1000ms, 3));
    bool peer_done = false;
    peer.async_run([&](boost::system::error_code) { peer_done = true; });

    int rtts = 0;
    session_callbacks cb;
    cb.on_rtt = [&](duration, const rtt_estimator&) { ++rtts; };
    cb.on_state_change = [](peer_state, peer_state to, unsigned) {
        if (to == peer_state::suspect)
            throw std::runtime_error("application callback failed");
    };
    tcp_session client(std::move(ours), fast_config(100ms, 100ms, 3), cb);
    std::optional<boost::system::error_code> reason;
    client.async_run([&](boost::system::error_code ec) { reason = ec; });
    for (int i = 0; i < 500 && rtts == 0; ++i) {
        ioc.run_for(2ms);
        peer_ioc.poll();
    }
    ASSERT_GT(rtts, 0);
    ASSERT_TRUE(run_until(
        ioc, [&] { return reason.has_value(); }, 5s))
        << "the session did not end after its callback threw";
    EXPECT_EQ(*reason, asio::error::fault) << reason->message();
    ASSERT_TRUE(run_until(
        peer_ioc, [&] { return peer_done; }, 5s));
}
