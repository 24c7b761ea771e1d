// Fault injection at every step of a native session's life: the HELLO exchange, messages both
// ways (one of them chunked), heartbeats, and close(). For each side (the one that closes, the
// one that echoes), each step kind (read, write) and each transport error, the Nth step fails,
// for N = 1, 2, ... until a whole conversation runs without reaching step N. Every operation
// (async_run, async_send, async_receive, async_wait_event, and those started after the end)
// must complete exactly once, the faulty side must end with the documented reason, the other
// side with a named one, and the io_context must run out of work (nothing hangs, nothing left
// pending) well within the cap. Over real TCP sockets on 127.0.0.1.
#include "fault_endings.hpp"
#include "faulty_native_session.hpp"
#include "session_party.hpp"

#include <heartbeat/session/stream_session_impl.hpp>

#include <gtest/gtest.h>

#include <cstdio>
#include <tuple>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

template class heartbeat::session<stream_link<native_profile, faulty_socket>>;

namespace {

enum class side { closer, echoer };

// Generous: a case normally takes milliseconds; only a hang comes near this.
constexpr auto case_cap = 30s;
// More steps than any conversation here takes; reaching it means the loop never converged.
constexpr std::size_t max_steps = 400;

std::string chunked_payload() {
    std::string s(200 * 1024, '\0');
    for (std::size_t i = 0; i < s.size(); ++i)
        s[i] = static_cast<char>(i * 7 + 3);
    return s;
}

struct case_result {
    bool fired = false;
};

// One conversation with `plan` on one side; checks every completion. Returns whether the fault
// fired (the caller stops at the first N it does not).
case_result run_case(side faulty, const std::shared_ptr<fault_plan>& plan) {
    asio::io_context ioc;
    // Small kernel buffers: the chunked message then takes many partial writes and reads, so
    // faults also land in the middle of a message.
    auto [server_socket, client_socket] = tcp_pair_small_buffers(ioc, 16 * 1024);
    const auto config = fast_config(10ms, 2000ms, 3);
    faulty_session closer(faulty_socket(std::move(client_socket),
                                        faulty == side::closer ? plan : fault_plan::never()),
                          config);
    faulty_session echoer(faulty_socket(std::move(server_socket),
                                        faulty == side::echoer ? plan : fault_plan::never()),
                          config);
    session_party<faulty_session> a(closer, "closer"), b(echoer, "echoer");

    bool close_called = false, fired_before_close = false;
    plan->on_delivered = [&] { fired_before_close = !close_called; };

    const std::vector<std::string> messages = {"hello", chunked_payload(), "bye"};
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

    ioc.run_for(case_cap);
    EXPECT_TRUE(ioc.stopped()) << "work still pending after " << case_cap.count() << " s";
    EXPECT_TRUE(a.ended() && b.ended()) << "async_run did not complete";

    // Operations started after the end complete too, with the end reason.
    if (a.ended()) {
        a.send("late");
        a.receive([](boost::system::error_code, std::string) {});
        closer.close();
        closer.cancel();
        ioc.restart();
        ioc.run_for(case_cap);
        EXPECT_TRUE(ioc.stopped()) << "work pending after operations on an ended session";
    }

    EXPECT_EQ(a.ledger().not_completed_once(), "");
    EXPECT_EQ(b.ledger().not_completed_once(), "");
    EXPECT_EQ(a.ledger().unexpected_results(a.reason()), "");
    EXPECT_EQ(b.ledger().unexpected_results(b.reason()), "");
    EXPECT_EQ(mismatches, 0) << "a message came back different";

    auto& bad = faulty == side::closer ? a : b;
    auto& good = faulty == side::closer ? b : a;
    if (plan->fired) {
        auto allowed = endings_for(plan->step, plan->error);
        if (!fired_before_close) // the fault hit the goodbye, after the ending was decided
            allowed.push_back(faulty == side::closer ? error::session_closed : error::peer_closed);
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
    return {plan->fired};
}

using fault_param = std::tuple<side, fault_step, std::size_t>;

class NativeSessionFaults : public ::testing::TestWithParam<fault_param> {};

TEST_P(NativeSessionFaults, EveryStepFailsOnceAndEveryOperationCompletesOnce) {
    const auto [who, step, error_index] = GetParam();
    const auto injected = transport_errors().at(error_index);
    std::size_t n = 1;
    bool converged = false;
    for (; n <= max_steps && !HasFailure(); ++n) {
        SCOPED_TRACE(::testing::Message() << "fail " << to_string(step) << " #" << n << " with "
                                          << error_name(injected));
        const auto plan = fault_plan::make(step, n, injected);
        if (!run_case(who, plan).fired) {
            converged = true;
            break;
        }
    }
    EXPECT_TRUE(converged || HasFailure()) << "still failing at step " << max_steps;
    // The figure for the report: cases where the fault fired, plus the clean run.
    std::printf("[ faults   ] native %s %s %s: %zu faulted steps\n",
                who == side::closer ? "closer" : "echoer", to_string(step), error_name(injected),
                n - 1);
}

std::string param_name(const ::testing::TestParamInfo<fault_param>& info) {
    const auto [who, step, error_index] = info.param;
    return std::string(who == side::closer ? "Closer" : "Echoer") + "_" + to_string(step) + "_" +
           error_name(transport_errors().at(error_index));
}

INSTANTIATE_TEST_SUITE_P(AllErrors, NativeSessionFaults,
                         ::testing::Combine(::testing::Values(side::closer, side::echoer),
                                            ::testing::Values(fault_step::read, fault_step::write),
                                            ::testing::Range<std::size_t>(0, 6)),
                         param_name);

} // namespace
