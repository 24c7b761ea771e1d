// Fault injection at every step of a native session's life: the HELLO exchange, messages both
// ways (one of them chunked), heartbeats, and close(). For each side (the one that closes, the
// one that echoes), each step kind (read, write) and each transport error, the Nth step fails,
// for N = 1, 2, ... until a whole conversation runs without reaching step N. Every operation
// (async_run, async_send, async_receive, async_wait_event, and those started after the end)
// must complete exactly once, the faulty side must end with the documented reason, the other
// side with a named one, and the io_context must run out of work (nothing hangs, nothing left
// pending) well within the cap. Over real TCP sockets on 127.0.0.1.
#include "fault_conversation.hpp"
#include "faulty_native_session.hpp"

#include <heartbeat/session/stream_session_impl.hpp>

#include <gtest/gtest.h>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

template class heartbeat::session<stream_link<native_profile, faulty_socket>>;

namespace {

// One conversation with `plan` on one side; returns whether the fault fired (the caller stops at
// the first N it does not).
bool run_case(fault_side faulty, const std::shared_ptr<fault_plan>& plan) {
    asio::io_context ioc;
    // Small kernel buffers: the chunked message then takes many partial writes and reads, so
    // faults also land in the middle of a message.
    auto [server_socket, client_socket] = tcp_pair_small_buffers(ioc, 16 * 1024);
    const auto config = fast_config(10ms, 2000ms, 3);
    faulty_session closer(faulty_socket(std::move(client_socket),
                                        faulty == fault_side::closer ? plan : fault_plan::never()),
                          config);
    faulty_session echoer(faulty_socket(std::move(server_socket),
                                        faulty == fault_side::echoer ? plan : fault_plan::never()),
                          config);
    run_fault_conversation(ioc, closer, echoer, faulty, *plan,
                           endings_for(plan->step, plan->error));
    return plan->fired;
}

class NativeSessionFaults : public ::testing::TestWithParam<fault_param> {};

TEST_P(NativeSessionFaults, EveryStepFailsOnceAndEveryOperationCompletesOnce) {
    fail_every_step(GetParam(), "native", run_case);
}

INSTANTIATE_TEST_SUITE_P(AllErrors, NativeSessionFaults, every_fault_param(), fault_param_name);

} // namespace
