// The client supervisor and endings that reconnecting cannot cure (is_fatal): a peer that
// speaks another protocol version, or whose interval range excludes ours. With one endpoint the
// client gives up after the first such attempt instead of retrying forever; with another,
// compatible endpoint configured it fails over to it and stays there.
//
// The incompatible peer is a real TCP listener on 127.0.0.1 that answers every connection with
// a HELLO frame of its own making (encoded by the frame codec) and then waits.
#include "client_test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/protocol/native/frame_codec.hpp>
#include <heartbeat/server/server.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <vector>

using namespace heartbeat;
using namespace std::chrono_literals;
namespace ht = heartbeat::test;
namespace cs = heartbeat::test::client_support;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// Accepts on 127.0.0.1:0 and greets every connection with `hello`, then holds it open (reading
// and discarding) until the peer goes away. Counts the connections it accepted.
class incompatible_peer {
public:
    incompatible_peer(asio::io_context& ioc, hello_frame hello)
        : acceptor_(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        encode_append(hello, greeting_);
        asio::co_spawn(ioc, accept_loop(), asio::detached);
    }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    int accepted() const { return accepted_; }
    void close() {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
    }

private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, socket] =
                co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
            if (ec)
                co_return;
            ++accepted_;
            asio::co_spawn(acceptor_.get_executor(), greet(std::move(socket)), asio::detached);
        }
    }
    asio::awaitable<void> greet(tcp::socket socket) {
        auto [wec, wn] = co_await asio::async_write(socket, asio::buffer(greeting_),
                                                    asio::as_tuple(asio::use_awaitable));
        if (wec)
            co_return;
        std::vector<char> sink(4096);
        for (;;) {
            auto [rec, rn] = co_await socket.async_read_some(asio::buffer(sink),
                                                             asio::as_tuple(asio::use_awaitable));
            if (rec)
                co_return;
        }
    }

    tcp::acceptor acceptor_;
    std::vector<std::uint8_t> greeting_;
    int accepted_ = 0;
};

hello_frame other_version() {
    hello_frame h;
    h.version = protocol_version + 1;
    return h;
}

// The peer will not be pinged more often than every 60 s nor less often than every 1 s: no
// interval satisfies it.
hello_frame impossible_interval() {
    hello_frame h;
    h.min_interval_ms = 60000;
    h.max_interval_ms = 1000;
    return h;
}

client_config fast_client() {
    client_config cfg;
    cfg.session = ht::fast_config(200ms, 200ms, 2);
    cfg.backoff.initial = 20ms;
    cfg.backoff.max = 40ms;
    cfg.connect_timeout = 1s;
    cfg.use_reconnect_budget = false;
    return cfg;
}

struct give_up_case {
    const char* name;
    hello_frame (*hello)();
    error expected;
};

class ClientFatal : public ::testing::TestWithParam<give_up_case> {};

TEST_P(ClientFatal, OneIncompatibleEndpointGivesUpAfterOneAttempt) {
    asio::io_context ioc;
    incompatible_peer peer(ioc, GetParam().hello());
    cs::event_log events;
    client c(ioc.get_executor(), {cs::local_endpoint_for(peer.port())}, fast_client(),
             events.callback());
    bool run_done = false;
    boost::system::error_code run_end;
    c.async_run([&](boost::system::error_code ec) { run_end = ec, run_done = true; });
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return run_done; }, 10s))
        << events.describe();
    EXPECT_EQ(run_end, GetParam().expected) << events.describe();
    EXPECT_EQ(peer.accepted(), 1) << "retried a peer that cannot become compatible";
    EXPECT_EQ(events.count(client_event_kind::connecting), 1u) << events.describe();
    EXPECT_EQ(events.count(client_event_kind::reconnecting), 0u) << events.describe();
    const auto all = events.snapshot();
    ASSERT_FALSE(all.empty());
    EXPECT_EQ(all.back().event.kind, client_event_kind::gave_up) << events.describe();
    EXPECT_EQ(all.back().event.reason, GetParam().expected) << events.describe();
}

TEST_P(ClientFatal, AnIncompatibleEndpointFailsOverToACompatibleOne) {
    asio::io_context ioc;
    incompatible_peer peer(ioc, GetParam().hello());
    server_config scfg;
    scfg.session = ht::fast_config(200ms, 200ms, 2);
    cs::threaded_server good(0, scfg);
    const endpoint bad_ep = cs::local_endpoint_for(peer.port());
    const endpoint good_ep = cs::local_endpoint_for(good.port());
    cs::event_log events;
    client c(ioc.get_executor(), {bad_ep, good_ep}, fast_client(), events.callback());
    bool run_done = false;
    boost::system::error_code run_end;
    c.async_run([&](boost::system::error_code ec) { run_end = ec, run_done = true; });
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return events.count(client_event_kind::connected) > 0 || run_done; }, 10s))
        << events.describe();
    ASSERT_FALSE(run_done) << "gave up although a compatible endpoint exists: " << run_end;
    // Stays on the compatible endpoint: heartbeats flow for several budgets, no give-up.
    ht::run_for(ioc, 1500ms);
    EXPECT_FALSE(run_done) << events.describe();
    EXPECT_EQ(events.count(client_event_kind::gave_up), 0u) << events.describe();
    EXPECT_TRUE(c.stats().connected);
    EXPECT_EQ(c.stats().endpoint, good_ep.label);
    bool saw_incompatible_close = false;
    for (const auto& t : events.snapshot())
        if (t.event.kind == client_event_kind::closed && t.event.endpoint == bad_ep.label &&
            t.event.reason == GetParam().expected)
            saw_incompatible_close = true;
    EXPECT_TRUE(saw_incompatible_close) << events.describe();
    c.close();
    peer.close();
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return run_done; }, 10s))
        << events.describe();
}

INSTANTIATE_TEST_SUITE_P(
    Endings, ClientFatal,
    ::testing::Values(
        give_up_case{"unsupported_version", &other_version, error::unsupported_version},
        give_up_case{"incompatible_interval", &impossible_interval, error::incompatible_interval}),
    [](const ::testing::TestParamInfo<give_up_case>& info) { return info.param.name; });

} // namespace

// An invalid client_config is the first fatal ending: the run completes with invalid_config
// after a gave_up event naming it, without a connection attempt.
TEST(ClientFatal, InvalidConfigEmitsGaveUpAndEndsTheRun) {
    asio::io_context ioc;
    client_config cfg;
    cfg.session.heartbeat.interval = duration::zero();
    ASSERT_TRUE(validate(cfg).has_value());
    cs::event_log events;
    client c(ioc.get_executor(), {cs::local_endpoint_for(1)}, cfg, events.callback());
    std::optional<client_event> waited; // waiting before the run starts: it sees the event
    c.async_wait_event([&](boost::system::error_code ec, client_event e) {
        if (!ec)
            waited = std::move(e);
    });
    std::optional<boost::system::error_code> run_reason;
    c.async_run([&](boost::system::error_code ec) { run_reason = ec; });
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return run_reason.has_value(); }, 5s));
    EXPECT_EQ(*run_reason, error::invalid_config) << run_reason->message();
    EXPECT_EQ(events.count(client_event_kind::gave_up), 1u);
    EXPECT_EQ(events.count(client_event_kind::connecting), 0u);
    for (const auto& t : events.snapshot())
        if (t.event.kind == client_event_kind::gave_up)
            EXPECT_EQ(t.event.reason, error::invalid_config) << t.event.reason.message();
    ht::run_for(ioc, 20ms);
    ASSERT_TRUE(waited.has_value()) << "async_wait_event did not see the gave_up event";
    EXPECT_EQ(waited->kind, client_event_kind::gave_up);
}
