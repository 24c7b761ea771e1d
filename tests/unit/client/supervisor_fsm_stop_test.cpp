// The supervisor machine on close() and cancel(), on a fake clock: during a connect, a back-off,
// a reconnect-budget wait, a session and a failback drain; before the start; twice.
#include "supervisor_fsm_harness.hpp"

#include <gtest/gtest.h>

namespace {

using namespace heartbeat;
using namespace heartbeat::test;
using state = supervisor_fsm::state;

const sv::connect_done aborted{boost::asio::error::operation_aborted};

TEST(SupervisorFsmStop, CloseDuringAConnectAbandonsItWithoutAClosedEvent) {
    fsm_harness h(2);
    h.step(at(0), sv::start{});
    EXPECT_EQ(h.step(at(5), sv::close_requested{}), (lines{"abort_connect"}));
    EXPECT_EQ(h.fsm.stop_reason(), error::session_closed);
    EXPECT_EQ(h.step(at(6), aborted), (lines{"finish session_closed"}));
    EXPECT_EQ(h.fsm.current_state(), state::finished);
}

TEST(SupervisorFsmStop, ASessionAConnectProducedAfterCloseIsNotStarted) {
    fsm_harness h(1);
    h.step(at(0), sv::start{});
    h.step(at(5), sv::close_requested{});
    EXPECT_EQ(h.step(at(6), connected_ok()), (lines{"finish session_closed"}));
    EXPECT_EQ(h.fsm.counters().sessions, 0u);
}

TEST(SupervisorFsmStop, CancelDuringAConnectEndsWithOperationAborted) {
    fsm_harness h(1);
    h.step(at(0), sv::start{});
    EXPECT_EQ(h.step(at(5), sv::cancel_requested{}), (lines{"abort_connect"}));
    EXPECT_EQ(h.step(at(6), aborted), (lines{"finish operation_aborted"}));
}

TEST(SupervisorFsmStop, CloseDuringABackOffEndsAtOnce) {
    fsm_harness h(1);
    h.step(at(0), sv::start{});
    h.step(at(0), refused()); // waits until 50 ms
    EXPECT_EQ(h.step(at(10), sv::close_requested{}), (lines{"finish session_closed"}));
    EXPECT_EQ(h.fsm.timer(), time_point::max());
    EXPECT_EQ(h.step(at(50), sv::timer_fired{}), lines{});
}

TEST(SupervisorFsmStop, CancelDuringABackOffEndsAtOnce) {
    fsm_harness h(1);
    h.step(at(0), sv::start{});
    h.step(at(0), refused());
    EXPECT_EQ(h.step(at(10), sv::cancel_requested{}), (lines{"finish operation_aborted"}));
}

TEST(SupervisorFsmStop, CloseDuringAReconnectBudgetWaitEndsAtOnce) {
    reconnect_budget budget({.rate_per_second = 1.0, .burst = 1.0});
    budget.reserve(at(0));
    fsm_harness h(2, with_budget(budget));
    h.step(at(0), sv::start{});
    EXPECT_EQ(h.step(at(0), refused()), (lines{"emit closed a connection_refused",
                                               "emit failover a->b", "wait_until 1000ms"}));
    EXPECT_EQ(h.step(at(100), sv::close_requested{}), (lines{"finish session_closed"}));
}

// On b since 0 ms, handshake done.
void on_b(fsm_harness& h) {
    h.step(at(0), sv::start{});
    h.step(at(0), refused());
    h.step(at(0), connected_ok());
    h.step(at(0), handshake());
}

TEST(SupervisorFsmStop, CloseDuringASessionClosesItGracefullyThenFinishes) {
    fsm_harness h(2);
    on_b(h);
    EXPECT_EQ(h.step(at(100), sv::close_requested{}), (lines{"close_session", "wait_until never"}));
    EXPECT_EQ(h.step(at(101), sv::close_requested{}), lines{}) << "one close";
    EXPECT_EQ(h.step(at(500), sv::timer_fired{}), lines{}) << "no probe while closing";
    EXPECT_EQ(h.step(at(600), ended(error::session_closed)),
              (lines{"emit closed b session_closed", "finish session_closed"}));
}

TEST(SupervisorFsmStop, CancelDuringASessionEndsItAtOnce) {
    fsm_harness h(2);
    on_b(h);
    EXPECT_EQ(h.step(at(100), sv::cancel_requested{}),
              (lines{"cancel_session", "wait_until never"}));
    EXPECT_EQ(h.step(at(101), sv::session_ended{boost::asio::error::operation_aborted}),
              (lines{"emit closed b operation_aborted", "finish operation_aborted"}));
}

TEST(SupervisorFsmStop, CancelAfterCloseCutsTheFlushShortButKeepsTheReason) {
    fsm_harness h(2);
    on_b(h);
    h.step(at(100), sv::close_requested{});
    EXPECT_EQ(h.step(at(110), sv::cancel_requested{}), (lines{"cancel_session"}));
    EXPECT_EQ(h.fsm.stop_reason(), error::session_closed);
    EXPECT_EQ(h.step(at(111), sv::session_ended{boost::asio::error::operation_aborted}),
              (lines{"emit closed b operation_aborted", "finish session_closed"}));
}

TEST(SupervisorFsmStop, CloseAfterCancelChangesNothing) {
    fsm_harness h(1);
    h.step(at(0), sv::start{});
    h.step(at(1), sv::cancel_requested{});
    EXPECT_EQ(h.step(at(2), sv::close_requested{}), lines{});
    EXPECT_EQ(h.step(at(3), aborted), (lines{"finish operation_aborted"}));
}

TEST(SupervisorFsmStop, CloseWhileDrainingForAFailbackStopsInsteadOfSwitching) {
    fsm_harness h(2);
    on_b(h);
    for (std::uint64_t n = 1; n <= 3; ++n) {
        h.step(at(500 * n), sv::timer_fired{});
        h.step(at(500 * n + 10), sv::probe_done{n, true});
    }
    ASSERT_EQ(h.step(at(2000), sv::timer_fired{}),
              (lines{"drain_and_switch a", "wait_until 3000ms"}));
    EXPECT_EQ(h.step(at(2100), sv::close_requested{}),
              (lines{"close_session", "wait_until never"}));
    EXPECT_EQ(h.step(at(2200), sv::drained{}), lines{});
    EXPECT_EQ(h.step(at(2300), ended(error::session_closed)),
              (lines{"emit closed b session_closed", "finish session_closed"}));
    EXPECT_EQ(h.fsm.counters().failbacks, 0u);
}

TEST(SupervisorFsmStop, CloseBeforeTheStartFinishesAtTheStartWithoutEvents) {
    fsm_harness h(2);
    EXPECT_EQ(h.step(at(0), sv::close_requested{}), lines{});
    EXPECT_EQ(h.step(at(1), sv::start{}), (lines{"finish session_closed"}));
}

TEST(SupervisorFsmStop, CancelBeforeTheStartFinishesAtTheStart) {
    fsm_harness h(2);
    EXPECT_EQ(h.step(at(0), sv::cancel_requested{}), lines{});
    EXPECT_EQ(h.step(at(1), sv::start{}), (lines{"finish operation_aborted"}));
}

TEST(SupervisorFsmStop, StopAfterTheEndChangesNothing) {
    fsm_harness h(1);
    h.step(at(0), sv::start{});
    h.step(at(1), sv::connect_done{make_error_code(error::invalid_config)});
    EXPECT_EQ(h.step(at(2), sv::close_requested{}), lines{});
    EXPECT_EQ(h.step(at(2), sv::cancel_requested{}), lines{});
    EXPECT_FALSE(h.fsm.stop_reason());
}

} // namespace
