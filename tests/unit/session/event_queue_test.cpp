#include <heartbeat/session/event_queue.hpp>
#include <heartbeat/core/error.hpp>

#include <gtest/gtest.h>

#include <chrono>

namespace {

using namespace heartbeat;
using heartbeat::detail::event_queue;
using std::chrono::milliseconds;

session_event state_change(peer_state from, peer_state to, unsigned missed) {
    session_event e;
    e.kind = session_event_kind::state_changed;
    e.from = from;
    e.to = to;
    e.missed = missed;
    return e;
}

session_event rtt(milliseconds value) {
    session_event e;
    e.kind = session_event_kind::rtt_sample;
    e.value = value;
    return e;
}

session_event dead(unsigned missed, milliseconds silence) {
    session_event e;
    e.kind = session_event_kind::verdict;
    e.missed = missed;
    e.dead = verdict{error::peer_dead, missed, silence, milliseconds(7), time_point(silence)};
    return e;
}

session_event ended(error reason) {
    session_event e;
    e.kind = session_event_kind::ended;
    e.reason = reason;
    return e;
}

TEST(EventQueue, EveryKindComesBackAsQueuedAndInOrder) {
    event_queue q;
    EXPECT_EQ(q.push(state_change(peer_state::connecting, peer_state::alive, 0), 16), 0u);
    EXPECT_EQ(q.push(rtt(milliseconds(12)), 16), 0u);
    EXPECT_EQ(q.push(state_change(peer_state::alive, peer_state::suspect, 1), 16), 0u);
    EXPECT_EQ(q.push(dead(3, milliseconds(4321)), 16), 0u);
    EXPECT_EQ(q.push(ended(error::peer_dead), 16), 0u);
    ASSERT_EQ(q.size(), 5u);

    session_event e = q.pop_front();
    EXPECT_EQ(e.kind, session_event_kind::state_changed);
    EXPECT_EQ(e.from, peer_state::connecting);
    EXPECT_EQ(e.to, peer_state::alive);
    e = q.pop_front();
    EXPECT_EQ(e.kind, session_event_kind::rtt_sample);
    EXPECT_EQ(e.value, milliseconds(12));
    e = q.pop_front();
    EXPECT_EQ(e.to, peer_state::suspect);
    EXPECT_EQ(e.missed, 1u);
    e = q.pop_front();
    EXPECT_EQ(e.kind, session_event_kind::verdict);
    ASSERT_TRUE(e.dead.has_value());
    EXPECT_EQ(e.dead->reason, error::peer_dead);
    EXPECT_EQ(e.dead->missed, 3u);
    EXPECT_EQ(e.dead->silence, milliseconds(4321));
    EXPECT_EQ(e.dead->stalled, milliseconds(7));
    EXPECT_EQ(e.missed, 3u);
    e = q.pop_front();
    EXPECT_EQ(e.kind, session_event_kind::ended);
    EXPECT_EQ(e.reason, error::peer_dead);
    EXPECT_FALSE(e.dead.has_value());
    EXPECT_TRUE(q.empty());
}

TEST(EventQueue, UntakenRttSampleIsReplacedByTheNextOne) {
    event_queue q;
    q.push(state_change(peer_state::connecting, peer_state::alive, 0), 16);
    EXPECT_EQ(q.push(rtt(milliseconds(5)), 16), 0u);
    EXPECT_EQ(q.push(rtt(milliseconds(6)), 16), 1u);
    EXPECT_EQ(q.push(rtt(milliseconds(7)), 16), 1u);
    ASSERT_EQ(q.size(), 2u);
    q.pop_front();
    EXPECT_EQ(q.pop_front().value, milliseconds(7));
    // An RTT sample after another kind is queued, not merged.
    q.push(rtt(milliseconds(1)), 16);
    q.push(state_change(peer_state::alive, peer_state::suspect, 1), 16);
    EXPECT_EQ(q.push(rtt(milliseconds(2)), 16), 0u);
    EXPECT_EQ(q.size(), 3u);
}

TEST(EventQueue, AtCapacityTheOldestGoesEvenAVerdict) {
    event_queue q;
    q.push(dead(3, milliseconds(100)), 2);
    q.push(ended(error::peer_dead), 2);
    // The verdict is dropped: the end's reason must not be read from the verdict's slot.
    EXPECT_EQ(q.push(state_change(peer_state::dead, peer_state::dead, 3), 2), 1u);
    ASSERT_EQ(q.size(), 2u);
    session_event e = q.pop_front();
    EXPECT_EQ(e.kind, session_event_kind::ended);
    EXPECT_EQ(e.reason, error::peer_dead);
    EXPECT_EQ(q.pop_front().kind, session_event_kind::state_changed);
    // And the next verdict after that is its own.
    q.push(dead(5, milliseconds(900)), 2);
    e = q.pop_front();
    ASSERT_TRUE(e.dead.has_value());
    EXPECT_EQ(e.dead->missed, 5u);
}

TEST(EventQueue, CapacityZeroKeepsNothingAndCountsNothing) {
    event_queue q;
    EXPECT_EQ(q.push(rtt(milliseconds(1)), 0), 0u);
    EXPECT_EQ(q.push(dead(3, milliseconds(1)), 0), 0u);
    EXPECT_TRUE(q.empty());
}

} // namespace
