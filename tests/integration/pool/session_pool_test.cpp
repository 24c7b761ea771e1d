// session_pool over real TCP on 127.0.0.1: members interoperate with tcp_server and tcp_session
// in both roles (messages both ways, small and chunked, heartbeats answered), a frozen peer
// process is declared dead within the silence budget while the other members carry on, and bad
// peers and bad calls end with named errors: nothing the application queued goes unreported.
#include "test_support.hpp"

#include <heartbeat/pool/session_pool.hpp>
#include <heartbeat/server/server.hpp>

#include <boost/asio/write.hpp>
#include <boost/system/system_error.hpp>

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

struct pool_log {
    std::vector<pool_member_id> opened;
    std::map<std::uint32_t, std::vector<std::string>> messages; // by slot
    std::vector<std::pair<pool_member_id, pool_member_ending>> ended;
    std::vector<peer_state> states;

    session_pool_callbacks callbacks() {
        session_pool_callbacks cb;
        cb.on_open = [this](pool_member_id id) { opened.push_back(id); };
        cb.on_message = [this](pool_member_id id, std::string_view m) {
            messages[id.index].emplace_back(m);
        };
        cb.on_state = [this](pool_member_id, peer_state s) { states.push_back(s); };
        cb.on_ended = [this](pool_member_id id, const pool_member_ending& e) {
            ended.emplace_back(id, e);
        };
        return cb;
    }
    const pool_member_ending* ending_of(pool_member_id id) const {
        for (const auto& [who, e] : ended)
            if (who == id)
                return &e;
        return nullptr;
    }
};

session_pool_config pool_config(std::chrono::milliseconds interval,
                                std::chrono::milliseconds timeout, unsigned misses,
                                std::size_t capacity = 64) {
    session_pool_config c;
    c.session = fast_config(interval, timeout, misses);
    c.capacity = capacity;
    return c;
}

// A running tcp_server on 127.0.0.1 (it echoes every message) with the same numbers.
std::unique_ptr<tcp_server> running_server(asio::io_context& ioc,
                                           std::chrono::milliseconds interval,
                                           std::chrono::milliseconds timeout, unsigned misses) {
    server_config sc;
    sc.session = fast_config(interval, timeout, misses);
    auto server = std::make_unique<tcp_server>(ioc, loopback(), sc);
    server->async_run([](boost::system::error_code) {});
    return server;
}

std::string big_message(std::size_t size, char seed) {
    std::string m(size, '\0');
    for (std::size_t i = 0; i < size; ++i)
        m[i] = static_cast<char>(seed + static_cast<char>(i % 251));
    return m;
}

} // namespace

TEST(SessionPool, MembersTalkToATcpServerAndItsHeartbeats) {
    asio::io_context ioc;
    const auto server = running_server(ioc, 100ms, 300ms, 3);

    pool_log log;
    session_pool pool(ioc, pool_config(100ms, 300ms, 3), log.callbacks());
    std::vector<pool_member_id> ids;
    for (int i = 0; i < 3; ++i) {
        tcp::socket s(ioc);
        s.connect(server->local_endpoint());
        boost::system::error_code ec;
        ids.push_back(pool.add(std::move(s), ec));
        ASSERT_FALSE(ec) << ec.message();
    }
    ASSERT_TRUE(run_until(
        ioc, [&] { return log.opened.size() == 3; }, 10s));
    EXPECT_EQ(pool.state(ids[0]), peer_state::alive);

    const std::string large = big_message(200 * 1024, 'a'); // 4 DATA chunks each way
    for (const auto& id : ids) {
        for (const std::string m : {"one", "two", "three"})
            ASSERT_FALSE(pool.send(id, m));
        ASSERT_FALSE(pool.send(id, large));
    }
    ASSERT_TRUE(run_until(
        ioc,
        [&] {
            for (const auto& id : ids)
                if (log.messages[id.index].size() < 4)
                    return false;
            return true;
        },
        10s));
    for (const auto& id : ids) {
        const auto& got = log.messages[id.index];
        ASSERT_EQ(got.size(), 4u);
        EXPECT_EQ(got[0], "one");
        EXPECT_EQ(got[1], "two");
        EXPECT_EQ(got[2], "three");
        EXPECT_TRUE(got[3] == large) << "the chunked echo differs, size " << got[3].size();
    }

    // Idle: both sides ping each other every interval and answer.
    const auto before = pool.stats();
    ASSERT_TRUE(run_until(
        ioc,
        [&] {
            const auto s = pool.stats();
            return s.pongs_received >= before.pongs_received + 6 &&
                   s.pings_answered >= before.pings_answered + 6;
        },
        10s));
    EXPECT_GT(pool.stats().rtt_samples, 0u);
    EXPECT_TRUE(log.ended.empty());
    EXPECT_EQ(server->stats().active, 3u);

    // close(): the member ends with session_closed, and the server sees its peer go.
    ASSERT_FALSE(pool.close(ids[0]));
    ASSERT_TRUE(run_until(
        ioc, [&] { return server->stats().active == 2u; }, 10s));
    ASSERT_NE(log.ending_of(ids[0]), nullptr);
    EXPECT_EQ(log.ending_of(ids[0])->reason, error::session_closed);
    EXPECT_EQ(pool.send(ids[0], "late"), error::no_such_member);
    EXPECT_EQ(pool.state(ids[0]), std::nullopt);
    EXPECT_EQ(pool.stats().members, 2u);
    server->close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return log.ended.size() == 3; }, 10s));
    for (const auto& [id, e] : log.ended)
        if (!(id == ids[0]))
            EXPECT_EQ(e.reason, error::peer_closed) << e.reason.message();
}

TEST(SessionPool, ServesTcpSessionsAsTheAcceptingSide) {
    asio::io_context ioc;
    pool_log log;
    session_pool* pool_ptr = nullptr;
    auto callbacks = log.callbacks();
    callbacks.on_message = [&](pool_member_id id, std::string_view m) {
        log.messages[id.index].emplace_back(m);
        EXPECT_FALSE(pool_ptr->send(id, m)); // echo
    };
    session_pool pool(ioc, pool_config(100ms, 300ms, 3), callbacks);
    pool_ptr = &pool;

    std::vector<std::unique_ptr<tcp_session>> clients;
    for (int i = 0; i < 2; ++i) {
        auto [server_side, client_side] = tcp_pair(ioc);
        boost::system::error_code ec;
        pool.add(std::move(server_side), ec);
        ASSERT_FALSE(ec);
        clients.push_back(
            std::make_unique<tcp_session>(std::move(client_side), fast_config(100ms, 300ms, 3)));
        clients.back()->async_run([](boost::system::error_code) {});
    }
    const std::string large = big_message(150 * 1024, 'q');
    std::vector<std::vector<std::string>> echoed(clients.size());
    std::vector<std::function<void()>> receivers(clients.size());
    for (std::size_t i = 0; i < clients.size(); ++i) {
        clients[i]->async_send("ping-" + std::to_string(i), [](boost::system::error_code) {});
        clients[i]->async_send(large, [](boost::system::error_code) {});
        receivers[i] = [&, i] {
            clients[i]->async_receive([&, i](boost::system::error_code ec, std::string m) {
                if (ec)
                    return;
                echoed[i].push_back(std::move(m));
                receivers[i]();
            });
        };
        receivers[i]();
    }
    ASSERT_TRUE(run_until(
        ioc, [&] { return echoed[0].size() == 2 && echoed[1].size() == 2; }, 10s));
    for (std::size_t i = 0; i < clients.size(); ++i) {
        EXPECT_EQ(echoed[i][0], "ping-" + std::to_string(i));
        EXPECT_TRUE(echoed[i][1] == large);
    }
    // The clients' pings are answered by the pool, and their messages were ACKed.
    ASSERT_TRUE(run_until(
        ioc,
        [&] {
            return clients[0]->stats().heartbeat.pongs_received >= 3 &&
                   clients[1]->stats().heartbeat.pongs_received >= 3 &&
                   clients[0]->stats().peer_acked >= 2 && clients[1]->stats().peer_acked >= 2;
        },
        10s));
    EXPECT_TRUE(log.ended.empty());
    for (auto& c : clients)
        c->close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return log.ended.size() == 2; }, 10s));
    for (const auto& [id, e] : log.ended)
        EXPECT_EQ(e.reason, error::peer_closed) << e.reason.message();
}

TEST(SessionPool, AFrozenPeerProcessIsDeadWithinTheBudgetAndTheOthersCarryOn) {
    child_peer frozen;
    ASSERT_TRUE(frozen.start(HEARTBEAT_TEST_PEER, {"100", "200", "2"}));
    asio::io_context ioc;
    const auto healthy = running_server(ioc, 100ms, 200ms, 2);

    pool_log log;
    time_point frozen_at{};
    time_point ended_at{};
    auto callbacks = log.callbacks();
    auto base_ended = callbacks.on_ended;
    callbacks.on_ended = [&](pool_member_id id, const pool_member_ending& e) {
        ended_at = clock::now();
        base_ended(id, e);
    };
    session_pool pool(ioc, pool_config(100ms, 200ms, 2), callbacks);
    boost::system::error_code ec;
    tcp::socket to_frozen(ioc);
    to_frozen.connect(loopback(frozen.port()));
    const auto frozen_id = pool.add(std::move(to_frozen), ec);
    ASSERT_FALSE(ec);
    tcp::socket to_healthy(ioc);
    to_healthy.connect(healthy->local_endpoint());
    const auto healthy_id = pool.add(std::move(to_healthy), ec);
    ASSERT_FALSE(ec);
    ASSERT_TRUE(run_until(
        ioc, [&] { return log.opened.size() == 2; }, 10s));
    run_for(ioc, 300ms);

    ASSERT_TRUE(frozen.freeze());
    frozen_at = clock::now();
    ASSERT_TRUE(run_until(
        ioc, [&] { return !log.ended.empty(); }, 10s));
    ASSERT_EQ(log.ended.size(), 1u);
    EXPECT_EQ(log.ended[0].first, frozen_id);
    EXPECT_EQ(log.ended[0].second.reason, error::peer_dead);
    // Budget: 100 + 2 x 200 = 500 ms of silence, measured from the last frame, which came at
    // most one interval before the freeze; generous on the late side (a loaded CI machine).
    const auto after_freeze = ended_at - frozen_at;
    EXPECT_GE(after_freeze, 500ms - 110ms) << to_ms(after_freeze) << " ms";
    EXPECT_LE(after_freeze, 3000ms) << to_ms(after_freeze) << " ms";
    EXPECT_EQ(pool.stats().verdicts, 1u);
    EXPECT_TRUE(std::find(log.states.begin(), log.states.end(), peer_state::suspect) !=
                log.states.end());

    // The healthy member is untouched and still exchanging heartbeats.
    const auto pongs = pool.stats().pongs_received;
    ASSERT_TRUE(run_until(
        ioc, [&] { return pool.stats().pongs_received >= pongs + 3; }, 10s));
    EXPECT_EQ(pool.state(healthy_id), peer_state::alive);
    EXPECT_EQ(log.ended.size(), 1u);
    healthy->close();
    run_until(
        ioc, [&] { return log.ended.size() == 2; }, 10s);
}

TEST(SessionPool, APeerThatNeverSaysHelloEndsWithHandshakeTimeout) {
    asio::io_context ioc;
    pool_log log;
    session_pool pool(ioc, pool_config(100ms, 100ms, 2), log.callbacks());
    auto [ours, silent] = tcp_pair(ioc);
    boost::system::error_code ec;
    const auto id = pool.add(std::move(ours), ec);
    ASSERT_FALSE(ec);
    ASSERT_TRUE(run_until(
        ioc, [&] { return !log.ended.empty(); }, 10s));
    EXPECT_EQ(log.ended[0].first, id);
    EXPECT_EQ(log.ended[0].second.reason, error::handshake_timeout);
    EXPECT_EQ(pool.stats().verdicts, 1u);
}

TEST(SessionPool, BadFramesEndOnlyTheirMemberWithANamedError) {
    struct bad_case {
        const char* name;
        std::vector<std::uint8_t> bytes;
        error expected;
    };
    std::vector<std::uint8_t> unknown = hello_bytes();
    for (std::uint8_t b : {0x63, 0x00, 0x00, 0x00, 0x00, 0x00})
        unknown.push_back(b);
    std::vector<std::uint8_t> huge = hello_bytes();
    for (std::uint8_t b : {0x02, 0x01, 0x7f, 0xff, 0xff, 0xff}) // DATA of 2 GiB
        huge.push_back(b);
    std::vector<std::uint8_t> stray_pong = hello_bytes();
    const auto pong = frame_bytes(pong_frame{77, 0});
    stray_pong.insert(stray_pong.end(), pong.begin(), pong.end());
    hello_frame old_hello;
    old_hello.version = 9;
    const std::vector<bad_case> cases = {
        {"data before hello", frame_bytes(ping_frame{1, 0}), error::data_before_hello},
        {"unknown type", unknown, error::unknown_frame_type},
        {"oversized frame", huge, error::frame_too_large},
        {"pong for no ping", stray_pong, error::unexpected_pong},
        {"unsupported version", frame_bytes(old_hello), error::unsupported_version},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(c.name);
        asio::io_context ioc;
        const auto server = running_server(ioc, 100ms, 300ms, 3);
        pool_log log;
        session_pool pool(ioc, pool_config(100ms, 300ms, 3), log.callbacks());
        tcp::socket good_socket(ioc);
        good_socket.connect(server->local_endpoint());
        boost::system::error_code ec;
        const auto good = pool.add(std::move(good_socket), ec);
        auto [ours, hostile] = tcp_pair(ioc);
        const auto bad = pool.add(std::move(ours), ec);
        ASSERT_FALSE(ec);
        asio::write(hostile, asio::buffer(c.bytes));
        ASSERT_TRUE(run_until(
            ioc, [&] { return !log.ended.empty(); }, 10s));
        ASSERT_EQ(log.ended.size(), 1u);
        EXPECT_EQ(log.ended[0].first, bad);
        EXPECT_EQ(log.ended[0].second.reason, c.expected) << log.ended[0].second.reason.message();
        // The other member still talks.
        ASSERT_FALSE(pool.send(good, "still here"));
        ASSERT_TRUE(run_until(
            ioc, [&] { return log.messages[good.index].size() == 1; }, 10s));
        EXPECT_EQ(log.ended.size(), 1u);
        server->close();
        run_for(ioc, 50ms);
    }
}

TEST(SessionPool, APeerThatStopsReadingFillsTheQueueThenIsDeadAndTheUnsentAreCounted) {
    asio::io_context ioc;
    pool_log log;
    auto config = pool_config(100ms, 200ms, 2);
    config.send_queue_limit = 256 * 1024;
    session_pool pool(ioc, config, log.callbacks());
    auto [ours, reader] = tcp_pair_small_buffers(ioc, 16 * 1024);
    boost::system::error_code ec;
    const auto id = pool.add(std::move(ours), ec);
    ASSERT_FALSE(ec);
    const auto hello = hello_bytes();
    asio::write(reader, asio::buffer(hello)); // then never reads nor writes again
    ASSERT_TRUE(run_until(
        ioc, [&] { return !log.opened.empty(); }, 10s));

    const std::string chunk(32 * 1024, 'x');
    std::size_t accepted = 0;
    boost::system::error_code refused;
    for (int i = 0; i < 1000 && !refused; ++i) {
        refused = pool.send(id, chunk);
        if (!refused)
            ++accepted;
    }
    EXPECT_EQ(refused, error::send_buffer_full);
    EXPECT_GT(accepted, 0u);
    EXPECT_GT(pool.stats().queued_send_bytes, 0u);
    EXPECT_LE(pool.stats().queued_send_bytes, config.send_queue_limit + chunk.size() + 64);

    // Its pings sit behind the queue: missed, and the verdict comes within the budget.
    ASSERT_TRUE(run_until(
        ioc, [&] { return !log.ended.empty(); }, 10s));
    const auto& e = log.ended[0].second;
    EXPECT_EQ(e.reason, error::peer_dead) << e.reason.message();
    EXPECT_GT(e.unsent_messages, 0u);
    EXPECT_LE(e.unsent_messages, accepted);
    EXPECT_GT(e.unsent_bytes, 0u);
    EXPECT_EQ(pool.stats().queued_send_bytes, 0u);
}

TEST(SessionPool, APeerAskingForAnotherIntervalIsRefusedByName) {
    asio::io_context ioc;
    pool_log log;
    session_pool pool(ioc, pool_config(100ms, 300ms, 3), log.callbacks());
    auto [ours, theirs] = tcp_pair(ioc);
    boost::system::error_code ec;
    pool.add(std::move(ours), ec);
    auto slow = fast_config(100ms, 300ms, 3);
    slow.min_peer_ping_interval = 300ms; // "do not ping me more often than every 300 ms"
    tcp_session session(std::move(theirs), slow);
    boost::system::error_code session_end;
    bool session_done = false;
    session.async_run([&](boost::system::error_code e) {
        session_end = e;
        session_done = true;
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return !log.ended.empty() && session_done; }, 10s));
    EXPECT_EQ(log.ended[0].second.reason, error::incompatible_interval);
    EXPECT_TRUE(session_end) << "the session saw its peer go";
}

TEST(SessionPool, IdsCapacityAndConfigAreCheckedByName) {
    asio::io_context ioc;
    pool_log log;
    session_pool pool(ioc, pool_config(100ms, 300ms, 3, 1), log.callbacks());
    auto [a, a_peer] = tcp_pair(ioc);
    auto [b, b_peer] = tcp_pair(ioc);
    boost::system::error_code ec;
    const auto first = pool.add(std::move(a), ec);
    ASSERT_FALSE(ec);
    pool.add(std::move(b), ec);
    EXPECT_EQ(ec, error::pool_full);
    EXPECT_EQ(pool.send(pool_member_id{first.index, first.generation + 1}, "x"),
              error::no_such_member);
    EXPECT_EQ(pool.send(pool_member_id{7, 0}, "x"), error::no_such_member);
    EXPECT_EQ(pool.close(pool_member_id{7, 0}), error::no_such_member);
    ASSERT_FALSE(pool.close(first));
    EXPECT_EQ(pool.send(first, "x"), error::no_such_member);
    ASSERT_EQ(log.ended.size(), 1u);
    EXPECT_EQ(log.ended[0].second.reason, error::session_closed);
    // Its slot is free again, under a new generation.
    auto [c, c_peer] = tcp_pair(ioc);
    const auto again = pool.add(std::move(c), ec);
    ASSERT_FALSE(ec);
    EXPECT_EQ(again.index, first.index);
    EXPECT_NE(again.generation, first.generation);

    auto bad = pool_config(100ms, 300ms, 3);
    bad.session.heartbeat.detector = detector_kind::phi_accrual;
    try {
        session_pool refused(ioc, bad);
        FAIL() << "a phi-accrual pool was accepted";
    } catch (const boost::system::system_error& e) {
        EXPECT_EQ(e.code(), error::invalid_config);
        EXPECT_NE(std::string(e.what()).find("detector"), std::string::npos) << e.what();
    }
    auto zero = pool_config(100ms, 300ms, 3, 0);
    ASSERT_TRUE(validate(zero).has_value());
    EXPECT_EQ(validate(zero)->field, "session_pool_config.capacity");
}

TEST(SessionPool, TwoPoolsOfFiftyMembersTalk) {
    asio::io_context ioc;
    pool_log server_log, client_log;
    session_pool* server_ptr = nullptr;
    auto server_callbacks = server_log.callbacks();
    server_callbacks.on_message = [&](pool_member_id id, std::string_view m) {
        EXPECT_FALSE(server_ptr->send(id, m));
    };
    session_pool server_pool(ioc, pool_config(100ms, 300ms, 3), server_callbacks);
    server_ptr = &server_pool;
    session_pool client_pool(ioc, pool_config(100ms, 300ms, 3), client_log.callbacks());
    std::vector<pool_member_id> clients;
    for (int i = 0; i < 50; ++i) {
        auto [s, c] = tcp_pair(ioc);
        boost::system::error_code ec;
        server_pool.add(std::move(s), ec);
        ASSERT_FALSE(ec);
        clients.push_back(client_pool.add(std::move(c), ec));
        ASSERT_FALSE(ec);
    }
    for (std::size_t i = 0; i < clients.size(); ++i)
        ASSERT_FALSE(client_pool.send(clients[i], "m" + std::to_string(i)));
    ASSERT_TRUE(run_until(
        ioc, [&] { return client_pool.stats().messages_received == 50; }, 10s));
    for (std::size_t i = 0; i < clients.size(); ++i) {
        ASSERT_EQ(client_log.messages[clients[i].index].size(), 1u);
        EXPECT_EQ(client_log.messages[clients[i].index][0], "m" + std::to_string(i));
    }
    run_for(ioc, 500ms);
    EXPECT_GE(client_pool.stats().pongs_received, 50u);
    EXPECT_TRUE(server_log.ended.empty());
    EXPECT_TRUE(client_log.ended.empty());
    EXPECT_EQ(server_pool.stats().open, 50u);
}
