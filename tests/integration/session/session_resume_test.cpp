// What a receiving session acknowledges: only messages its application has taken. Messages still
// queued in a session whose application stopped taking them (a frozen or dying process) must
// not be acknowledged -- neither in that session's ACKs nor in the resume store another
// connection reports from -- or the sender drops from its resend buffer what no application got.
#include "test_support.hpp"

#include <heartbeat/session/resume_store.hpp>

#include <gtest/gtest.h>

using namespace heartbeat;
using namespace std::chrono_literals;
namespace ht = heartbeat::test;
namespace asio = boost::asio;

namespace {

constexpr std::uint64_t session_id = 0x5e55'1011;

session_config receiver_config(std::shared_ptr<resume_store> store) {
    session_config c = ht::fast_config(1000ms, 1000ms, 3);
    c.resume = std::move(store);
    c.ack_delay = 5ms;
    return c;
}

session_config sender_config(std::uint64_t first_seq) {
    session_config c = ht::fast_config(1000ms, 1000ms, 3);
    c.session_id = session_id;
    c.first_seq = first_seq;
    return c;
}

// Takes `n` messages from `s`, appending their sequence numbers to `seqs`.
void take(tcp_session& s, int n, std::vector<std::uint64_t>& seqs) {
    if (n == 0)
        return;
    s.async_receive_message([&s, n, &seqs](boost::system::error_code ec, received_message m) {
        if (ec)
            return;
        seqs.push_back(m.seq);
        take(s, n - 1, seqs);
    });
}

} // namespace

TEST(SessionResume, OnlyMessagesTheApplicationTookAreAcknowledged) {
    asio::io_context ioc;
    auto store = std::make_shared<resume_store>();
    auto [server1, client1] = ht::tcp_pair(ioc);
    tcp_session receiver1(std::move(server1), receiver_config(store));
    tcp_session sender1(std::move(client1), sender_config(1));
    boost::system::error_code r1_end, s1_end;
    bool r1_done = false, s1_done = false;
    receiver1.async_run([&](boost::system::error_code ec) { r1_end = ec, r1_done = true; });
    sender1.async_run([&](boost::system::error_code ec) { s1_end = ec, s1_done = true; });

    int written = 0;
    for (int i = 1; i <= 100; ++i)
        sender1.async_send("message " + std::to_string(i), [&](boost::system::error_code ec) {
            if (!ec)
                ++written;
        });
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return receiver1.stats().queued_receive_bytes > 0 && written == 100; }, 5s));
    // Nothing taken: many ack_delays later, still nothing acknowledged or claimed.
    ht::run_for(ioc, 200ms);
    std::size_t all_bytes = 0;
    for (int i = 1; i <= 100; ++i)
        all_bytes += ("message " + std::to_string(i)).size();
    EXPECT_EQ(receiver1.stats().queued_receive_bytes, all_bytes)
        << "all 100 messages queued, none taken";
    EXPECT_EQ(sender1.stats().peer_acked, 0u);
    EXPECT_EQ(store->attach(session_id)->load(), 0u);

    // The application takes 70: those, and only those, are acknowledged and claimed.
    std::vector<std::uint64_t> taken1;
    take(receiver1, 70, taken1);
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return sender1.stats().peer_acked == 70; }, 5s))
        << "peer_acked " << sender1.stats().peer_acked;
    ht::run_for(ioc, 50ms);
    EXPECT_EQ(sender1.stats().peer_acked, 70u);
    EXPECT_EQ(store->attach(session_id)->load(), 70u);
    ASSERT_EQ(taken1.size(), 70u);
    EXPECT_EQ(taken1.front(), 1u);
    EXPECT_EQ(taken1.back(), 70u);

    // The sender gives up on this connection (as after a verdict on a frozen receiver) and
    // re-sends everything not acknowledged on a second one to a server sharing the store.
    auto [server2, client2] = ht::tcp_pair(ioc);
    tcp_session receiver2(std::move(server2), receiver_config(store));
    tcp_session sender2(std::move(client2), sender_config(71));
    bool r2_done = false, s2_done = false;
    receiver2.async_run([&](boost::system::error_code) { r2_done = true; });
    sender2.async_run([&](boost::system::error_code) { s2_done = true; });
    for (int i = 71; i <= 100; ++i)
        sender2.async_send("message " + std::to_string(i), [](boost::system::error_code) {});
    std::vector<std::uint64_t> taken2;
    take(receiver2, 30, taken2);
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return taken2.size() == 30 && sender2.stats().peer_acked == 100; }, 5s))
        << "taken " << taken2.size() << ", peer_acked " << sender2.stats().peer_acked;
    ASSERT_EQ(taken2.size(), 30u);
    EXPECT_EQ(taken2.front(), 71u);
    EXPECT_EQ(taken2.back(), 100u);

    // The first receiver's application wakes up: what it still holds was delivered elsewhere
    // meanwhile, so it gets none of it, and its session reports them as duplicates.
    sender1.cancel();
    std::vector<std::uint64_t> late;
    boost::system::error_code late_end;
    bool late_done = false;
    receiver1.async_receive_message([&](boost::system::error_code ec, received_message m) {
        late_end = ec, late_done = true;
        if (!ec)
            late.push_back(m.seq);
    });
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return late_done && r1_done && s1_done; }, 5s));
    EXPECT_TRUE(late.empty()) << "first late message " << (late.empty() ? 0 : late.front());
    EXPECT_EQ(late_end, r1_end) << "the end reason, once nothing new is left";
    EXPECT_EQ(receiver1.stats().duplicates_dropped, 30u);
    EXPECT_EQ(receiver1.stats().messages_received, 70u);

    sender2.close();
    EXPECT_TRUE(ht::run_until(
        ioc, [&] { return r2_done && s2_done; }, 5s));
}
