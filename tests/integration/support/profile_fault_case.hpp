#pragma once
// One fault case for a profile session against a real server: connect, run the session until its
// handshake is done and one heartbeat was answered, close(); the stream fails as `plan` says.
// Checks every operation completed exactly once and the ending is the documented one (a hang-up
// before the handshake's reply is the profile's handshake_failed). Returns whether it fired.
#include "fault_endings.hpp"
#include "fault_injection_stream.hpp"
#include "real_server_support.hpp"
#include "session_party.hpp"

#include <gtest/gtest.h>

namespace heartbeat::test {

template <class Session, class Config>
bool run_profile_fault_case(const server_process& server, Config config,
                            const std::shared_ptr<fault_plan>& plan) {
    using namespace std::chrono_literals;
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(server.endpoint());
    config.heartbeat.interval = 10ms;
    config.heartbeat.pong_timeout = 2000ms;
    config.heartbeat.jitter = 0;
    Session s(fault_injection_stream<tcp::socket>(std::move(socket), plan), config);
    session_party<Session> p(s, "session");
    bool close_called = false, delivered_before_close = false;
    plan->on_delivered = [&] { delivered_before_close = !close_called; };
    p.run();
    p.watch_events([&](const session_event& e) {
        if (e.kind == session_event_kind::rtt_sample && !close_called) {
            close_called = true;
            s.close();
        }
    });
    ioc.run_for(30s);
    EXPECT_TRUE(ioc.stopped()) << "work still pending";
    EXPECT_TRUE(p.ended()) << "async_run did not complete";
    EXPECT_EQ(p.ledger().not_completed_once(), "");
    EXPECT_EQ(p.ledger().unexpected_results(p.reason()), "");
    if (plan->fired) {
        auto allowed = endings_for(plan->step, plan->error, true);
        if (!delivered_before_close)
            allowed.push_back(error::session_closed);
        EXPECT_TRUE(one_of(p.reason(), allowed)) << "ended with " << error_name(p.reason());
    } else {
        EXPECT_EQ(p.reason(), error::session_closed) << p.reason().message();
    }
    return plan->fired;
}

// Runs the case for each step kind and error, N = 1, 2, ... until it runs clean; returns the
// number of cases run.
template <class Session, class Config>
std::size_t run_every_profile_fault(const server_process& server, const Config& config) {
    std::size_t cases = 0;
    for (const auto step : {fault_step::read, fault_step::write}) {
        for (const auto& injected : transport_errors()) {
            bool converged = false;
            for (std::size_t n = 1; n <= 200 && !::testing::Test::HasFailure(); ++n) {
                SCOPED_TRACE(::testing::Message() << "fail " << to_string(step) << " #" << n
                                                  << " with " << error_name(injected));
                ++cases;
                if (!run_profile_fault_case<Session>(server, config,
                                                     fault_plan::make(step, n, injected))) {
                    converged = true;
                    break;
                }
            }
            EXPECT_TRUE(converged || ::testing::Test::HasFailure());
        }
    }
    return cases;
}

} // namespace heartbeat::test
