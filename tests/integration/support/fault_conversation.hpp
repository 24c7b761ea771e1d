#pragma once
// One conversation of the fault tests, for any session type over any transport: the closer sends
// three messages (one of 200 KiB, so it is chunked or fragmented) which the echoer sends back,
// heartbeats run until an RTT sample is taken, then the closer calls close(). One side's stream
// fails as `plan` says. Every operation (async_run, async_send, async_receive, async_wait_event,
// and those started after the end) must complete exactly once, the faulty side must end with one
// of `allowed` (or the clean ending when the fault hit the goodbye), the other side with a named
// reason, and the io_context must run out of work well within the cap.
#include "fault_endings.hpp"
#include "session_party.hpp"
#include "test_support.hpp"

#include <boost/asio/io_context.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <tuple>
#include <vector>

namespace heartbeat::test {

enum class fault_side { closer, echoer };

inline const char* to_string(fault_side s) {
    return s == fault_side::closer ? "closer" : "echoer";
}

// Generous: a case normally takes milliseconds; only a hang comes near this.
inline constexpr std::chrono::seconds fault_case_cap{30};

inline std::string fault_test_payload() {
    std::string s(200 * 1024, '\0');
    for (std::size_t i = 0; i < s.size(); ++i)
        s[i] = static_cast<char>(i * 7 + 3);
    return s;
}

// The handshakes that come before a session (TLS, the WebSocket upgrade), the closer's and the
// echoer's, one side's stream failing as `plan` says. A fault must fail the faulty side's
// handshake, exactly once and with one of `allowed`; that side then drops its connection
// (`drop_faulty`), as our client and servers do, and the other side's handshake must complete
// (with an error) too. Returns whether both succeeded, so the session can start.
struct handshake_outcome {
    bool done = false;
    boost::system::error_code ec;
    int completions = 0;
    auto handler() {
        return [this](boost::system::error_code e) {
            done = true;
            ec = e;
            ++completions;
        };
    }
};

template <class StartCloser, class StartEchoer, class DropFaulty>
bool run_fault_handshakes(boost::asio::io_context& ioc, fault_side faulty, const fault_plan& plan,
                          StartCloser start_closer, StartEchoer start_echoer,
                          DropFaulty drop_faulty,
                          const std::vector<boost::system::error_code>& allowed) {
    handshake_outcome closer, echoer;
    start_echoer(echoer.handler());
    start_closer(closer.handler());
    auto& bad = faulty == fault_side::closer ? closer : echoer;
    bool dropped = false;
    run_until(
        ioc,
        [&] {
            if (bad.done && bad.ec && !dropped) {
                dropped = true;
                drop_faulty();
            }
            return (closer.done && echoer.done) || dropped;
        },
        fault_case_cap);
    if (closer.done && echoer.done && !closer.ec && !echoer.ec)
        return true;
    EXPECT_TRUE(plan.fired) << "a handshake failed with no fault injected: closer "
                            << closer.ec.message() << ", echoer " << echoer.ec.message();
    EXPECT_TRUE(bad.done && bad.ec) << "the faulty side's handshake did not fail";
    EXPECT_TRUE(one_of(bad.ec, allowed)) << "the faulty side's handshake failed with "
                                         << error_name(bad.ec) << " (" << bad.ec.message() << ")";
    ioc.restart();
    ioc.run_for(fault_case_cap);
    EXPECT_TRUE(ioc.stopped()) << "work still pending after a failed handshake";
    EXPECT_TRUE(closer.done && echoer.done) << "a handshake never completed";
    EXPECT_EQ(closer.completions, 1);
    EXPECT_EQ(echoer.completions, 1);
    return false;
}

// Runs the conversation between two sessions whose run has not started; checks as above.
template <class Session>
void run_fault_conversation(boost::asio::io_context& ioc, Session& closer, Session& echoer,
                            fault_side faulty, fault_plan& plan,
                            std::vector<boost::system::error_code> allowed) {
    session_party<Session> a(closer, "closer"), b(echoer, "echoer");
    bool close_called = false, fired_before_close = false;
    plan.on_delivered = [&] { fired_before_close = !close_called; };

    const std::vector<std::string> messages = {"hello", fault_test_payload(), "bye"};
    std::size_t echoed = 0;
    int mismatches = 0;
    bool rtt_seen = false;
    auto maybe_close = [&] {
        if (echoed == messages.size() && rtt_seen && !close_called) {
            close_called = true;
            closer.close();
        }
    };

    a.run();
    b.run();
    a.watch_events([&](const session_event& e) {
        if (e.kind == session_event_kind::rtt_sample) {
            rtt_seen = true;
            maybe_close();
        }
    });
    b.watch_events({});
    // The echoer sends back what it receives until its session ends.
    std::function<void()> echo = [&] {
        b.receive([&](boost::system::error_code ec, std::string m) {
            if (ec)
                return;
            b.send(std::move(m));
            echo();
        });
    };
    echo();
    for (const auto& m : messages)
        a.send(m);
    std::function<void()> collect = [&] {
        a.receive([&](boost::system::error_code ec, std::string m) {
            if (ec)
                return;
            if (echoed >= messages.size() || m != messages[echoed])
                ++mismatches;
            ++echoed;
            maybe_close();
            if (echoed < messages.size())
                collect();
        });
    };
    collect();

    ioc.restart();
    ioc.run_for(fault_case_cap);
    EXPECT_TRUE(ioc.stopped()) << "work still pending after " << fault_case_cap.count() << " s";
    EXPECT_TRUE(a.ended() && b.ended()) << "async_run did not complete";

    // Operations started after the end complete too, with the end reason.
    if (a.ended()) {
        a.send("late");
        a.receive([](boost::system::error_code, std::string) {});
        closer.close();
        closer.cancel();
        ioc.restart();
        ioc.run_for(fault_case_cap);
        EXPECT_TRUE(ioc.stopped()) << "work pending after operations on an ended session";
    }

    EXPECT_EQ(a.ledger().not_completed_once(), "");
    EXPECT_EQ(b.ledger().not_completed_once(), "");
    EXPECT_EQ(a.ledger().unexpected_results(a.reason()), "");
    EXPECT_EQ(b.ledger().unexpected_results(b.reason()), "");
    EXPECT_EQ(mismatches, 0) << "a message came back different";

    auto& bad = faulty == fault_side::closer ? a : b;
    auto& good = faulty == fault_side::closer ? b : a;
    if (plan.fired) {
        if (!fired_before_close) // the fault hit the goodbye, after the ending was decided
            allowed.push_back(faulty == fault_side::closer ? error::session_closed
                                                           : error::peer_closed);
        EXPECT_TRUE(one_of(bad.reason(), allowed))
            << "faulty side ended with " << error_name(bad.reason()) << " ("
            << bad.reason().message() << "), fault " << (fired_before_close ? "before" : "after")
            << " close()";
        EXPECT_TRUE(has_stable_name(good.reason()))
            << "other side ended with " << good.reason().message();
    } else {
        EXPECT_EQ(a.reason(), error::session_closed) << a.reason().message();
        EXPECT_EQ(b.reason(), error::peer_closed) << b.reason().message();
        EXPECT_EQ(echoed, messages.size());
    }
}

// ---- The parameterised test over every side, step kind and transport error ---------------------

using fault_param = std::tuple<fault_side, fault_step, std::size_t>; // error: transport_errors()[i]

inline auto every_fault_param() {
    return ::testing::Combine(::testing::Values(fault_side::closer, fault_side::echoer),
                              ::testing::Values(fault_step::read, fault_step::write),
                              ::testing::Range<std::size_t>(0, transport_errors().size()));
}

inline std::string fault_param_name(const ::testing::TestParamInfo<fault_param>& info) {
    const auto [who, step, error_index] = info.param;
    return std::string(who == fault_side::closer ? "Closer" : "Echoer") + "_" + to_string(step) +
           "_" + error_name(transport_errors().at(error_index));
}

// Runs `run_case(side, plan)` (which returns whether the fault fired) with the Nth step failing,
// N = 1, 2, ... until a case runs clean; prints the count for the report as `label`.
template <class RunCase>
void fail_every_step(const fault_param& param, const char* label, RunCase run_case) {
    // More steps than any conversation here takes; reaching it means the loop never converged.
    constexpr std::size_t max_steps = 400;
    const auto [who, step, error_index] = param;
    const auto injected = transport_errors().at(error_index);
    std::size_t n = 1;
    bool converged = false;
    for (; n <= max_steps && !::testing::Test::HasFailure(); ++n) {
        SCOPED_TRACE(::testing::Message() << "fail " << to_string(step) << " #" << n << " with "
                                          << error_name(injected));
        if (!run_case(who, fault_plan::make(step, n, injected))) {
            converged = true;
            break;
        }
    }
    EXPECT_TRUE(converged || ::testing::Test::HasFailure())
        << "still failing at step " << max_steps;
    // The figure for the report: cases where the fault fired, plus the clean run.
    std::printf("[ faults   ] %s %s %s %s: %zu faulted steps\n", label, to_string(who),
                to_string(step), error_name(injected), n - 1);
}

} // namespace heartbeat::test
