// The bookkeeping every server shares: admission against max_sessions (a refusal is counted as
// rejected), ids, the closed flag and the lifetime counters.
#include <heartbeat/server/peer_registry.hpp>

#include <boost/asio/error.hpp>

#include <gtest/gtest.h>

using namespace heartbeat;
using heartbeat::detail::admission;

namespace {

struct fake_peer {
    peer_info info;
    session_stats session;
};

using registry = detail::peer_registry<fake_peer>;

std::shared_ptr<fake_peer> admitted(registry& r, std::string address, std::size_t max_sessions) {
    auto p = std::make_shared<fake_peer>();
    if (r.admit(*p, std::move(address), max_sessions) != admission::admitted || !r.insert(p))
        return nullptr;
    return p;
}

server_stats stats_of(const registry& r) {
    return r.stats([](const fake_peer& p) { return p.session; });
}

} // namespace

TEST(PeerRegistry, AdmitsUpToTheLimitAndCountsRefusalsAsRejected) {
    registry r;
    auto a = admitted(r, "10.0.0.1:1", 2);
    auto b = admitted(r, "10.0.0.2:2", 2);
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->info.id, 1u);
    EXPECT_EQ(b->info.id, 2u);
    EXPECT_EQ(b->info.address, "10.0.0.2:2");

    fake_peer c;
    EXPECT_EQ(r.admit(c, "10.0.0.3:3", 2), admission::full);
    EXPECT_TRUE(r.full(2));
    auto st = stats_of(r);
    EXPECT_EQ(st.accepted, 2u);
    EXPECT_EQ(st.rejected, 2u);
    EXPECT_EQ(st.active, 2u);

    r.remove(a->info.id, error::peer_dead);
    EXPECT_FALSE(r.full(2));
    auto d = admitted(r, "10.0.0.4:4", 2);
    ASSERT_TRUE(d);
    EXPECT_EQ(d->info.id, 3u) << "ids are never reused";
    st = stats_of(r);
    EXPECT_EQ(st.ended, 1u);
    EXPECT_EQ(st.endings[error_name(error::peer_dead)], 1u);
}

TEST(PeerRegistry, ClosingRefusesNewPeersAndHandsOverTheLiveOnesOnce) {
    registry r;
    auto a = admitted(r, "a", 10);
    ASSERT_TRUE(a);
    fake_peer pending;
    ASSERT_EQ(r.admit(pending, "pending", 10), admission::admitted);

    auto live = r.close();
    ASSERT_TRUE(live.has_value());
    ASSERT_EQ(live->size(), 1u);
    EXPECT_EQ(live->front(), a);
    EXPECT_FALSE(r.close().has_value()) << "closed once";
    EXPECT_TRUE(r.closed());

    // A peer admitted before the close whose session came too late is not listed.
    EXPECT_FALSE(r.insert(std::make_shared<fake_peer>(pending)));
    fake_peer late;
    EXPECT_EQ(r.admit(late, "late", 10), admission::closed);
    EXPECT_EQ(stats_of(r).rejected, 0u) << "refused because closed is not a rejection";
}

TEST(PeerRegistry, StatsAddTheLiveSessionsBytes) {
    registry r;
    auto a = admitted(r, "a", 10);
    auto b = admitted(r, "b", 10);
    ASSERT_TRUE(a && b);
    a->session.bytes_sent = 10;
    a->session.bytes_received = 1;
    b->session.bytes_sent = 5;
    b->session.bytes_received = 2;
    const auto st = stats_of(r);
    EXPECT_EQ(st.bytes_sent, 15u);
    EXPECT_EQ(st.bytes_received, 3u);
    EXPECT_EQ(r.find(b->info.id), b);
    EXPECT_EQ(r.find(99), nullptr);
}

TEST(PeerRegistry, TakingAllEmptiesItAndCountsEachPeerAsEnded) {
    registry r;
    auto a = admitted(r, "10.0.0.1:1", 4);
    auto b = admitted(r, "10.0.0.2:2", 4);
    ASSERT_TRUE(a && b);
    auto taken = r.take_all(boost::asio::error::operation_aborted);
    ASSERT_EQ(taken.size(), 2u);
    EXPECT_TRUE((taken[0] == a && taken[1] == b) || (taken[0] == b && taken[1] == a));
    EXPECT_EQ(r.find(a->info.id), nullptr);
    const auto s = stats_of(r);
    EXPECT_EQ(s.active, 0u);
    EXPECT_EQ(s.ended, 2u);
    EXPECT_EQ(s.endings.at(error_name(boost::asio::error::operation_aborted)), 2u);
    EXPECT_TRUE(r.take_all(boost::asio::error::operation_aborted).empty());
    EXPECT_EQ(stats_of(r).ended, 2u);
}
