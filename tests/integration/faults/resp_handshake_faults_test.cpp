// Fault injection at every step of a Redis session against a real redis-server on 127.0.0.1: the
// HELLO 3 handshake, PINGs and close(). Each read or write fails in turn with each transport
// error, N = 1, 2, ... until the session runs clean; every operation completes exactly once and
// the run ends with the documented reason (a hang-up before HELLO's reply is handshake_failed).
#include "fault_endings.hpp"
#include "fault_injection_stream.hpp"
#include "real_server_support.hpp"
#include "session_party.hpp"

#include <heartbeat/protocol/profile_sessions.hpp>
#include <heartbeat/session/stream_session_impl.hpp>

#include <gtest/gtest.h>

#include <cstdio>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

using faulty_socket = fault_injection_stream<tcp::socket>;
using faulty_redis = resp_session<faulty_socket>;

// Returns whether the fault fired.
bool run_case(const server_process& redis, const std::shared_ptr<fault_plan>& plan) {
    asio::io_context ioc;
    tcp::socket socket(ioc);
    socket.connect(redis.endpoint());
    resp_config config;
    config.heartbeat.interval = 10ms;
    config.heartbeat.pong_timeout = 2000ms;
    config.heartbeat.jitter = 0;
    faulty_redis s(faulty_socket(std::move(socket), plan), config);
    session_party<faulty_redis> p(s, "redis");
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

} // namespace

TEST(RespSessionFaults, EveryStepOfHandshakePingAndCloseFailsOnce) {
    HEARTBEAT_REQUIRE_SERVER("redis-server");
    temp_dir dir;
    auto redis = start_redis(dir, "redis");
    ASSERT_TRUE(redis);
    std::size_t cases = 0;
    for (const auto step : {fault_step::read, fault_step::write}) {
        for (const auto& injected : transport_errors()) {
            bool converged = false;
            for (std::size_t n = 1; n <= 200 && !HasFailure(); ++n) {
                SCOPED_TRACE(::testing::Message() << "fail " << to_string(step) << " #" << n
                                                  << " with " << error_name(injected));
                ++cases;
                if (!run_case(*redis, fault_plan::make(step, n, injected))) {
                    converged = true;
                    break;
                }
            }
            EXPECT_TRUE(converged || HasFailure());
        }
    }
    std::printf("[ faults   ] resp: %zu cases (faulted steps + clean runs)\n", cases);
}
