// Bad peers against a heartbeat::tcp_server while well-behaved clients are connected: each bad
// peer ends only its own session, with a named reason (which the server reports through
// on_peer_closed and the peer reads in the CLOSE frame); the good clients keep exchanging echo
// messages and heartbeats with no verdict; the server keeps accepting new clients.
#include "test_support.hpp"

#include <heartbeat/server/server.hpp>

#include <gtest/gtest.h>

#include <boost/asio/steady_timer.hpp>

#include <map>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

constexpr std::size_t kGoodClients = 3;

// The server heartbeats at 100 ms / 200 ms x 3 (budget 700 ms) and accepts a peer's pings at
// most every 100 ms (80 ms with the 20% tolerance).
server_config make_server_config() {
    server_config c;
    c.session = fast_config(100ms, 200ms, 3);
    c.session.min_peer_ping_interval = 100ms;
    return c;
}

// A well-behaved client: an echo round trip every ~10 ms, and (pong_only liveness) a ping every
// 150 ms whatever the data traffic, so heartbeats flow alongside the messages.
struct good_client {
    std::optional<tcp_session> session;
    std::size_t echoes = 0;
    int rtts = 0;
    bool dead = false;
    bool ended = false;
    bool mismatch = false;
    bool stop = false;
    bool loop_done = false;
    boost::system::error_code reason;
};

asio::awaitable<void> echo_loop(good_client& c, std::size_t id) {
    asio::steady_timer pause(co_await asio::this_coro::executor);
    for (std::size_t n = 0; !c.stop; ++n) {
        std::string m = "client " + std::to_string(id) + " message " + std::to_string(n);
        auto [sec] = co_await c.session->async_send(m, asio::as_tuple(asio::use_awaitable));
        if (sec)
            break;
        auto [rec, back] = co_await c.session->async_receive(asio::as_tuple(asio::use_awaitable));
        if (rec)
            break;
        if (back != m) {
            c.mismatch = true;
            break;
        }
        ++c.echoes;
        pause.expires_after(10ms);
        co_await pause.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    c.loop_done = true;
}

// A hand-driven socket and what it saw; owned by the fixture so that coroutines still reading or
// writing it when a test body returns find it alive.
struct raw_peer {
    explicit raw_peer(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::string address;
    std::vector<seen_frame> frames;
    bool eof = false;        // the server hung up (the reader finished)
    bool writer_done = true; // no background writer running
    std::size_t written = 0; // frames the background writer sent
    error expected{};
};

struct closed_peer {
    boost::system::error_code reason;
    time_point at{};
};

class ServerBadPeer : public ::testing::Test {
protected:
    asio::io_context ioc;
    std::optional<tcp_server> server;
    bool server_done = false;
    std::map<std::string, closed_peer> closed;          // address -> how it ended
    std::map<std::string, std::optional<verdict>> dead; // address -> verdict
    std::vector<std::unique_ptr<good_client>> clients;
    std::vector<std::unique_ptr<raw_peer>> raws;
    const server_config scfg = make_server_config();

    void SetUp() override {
        server_callbacks cb;
        cb.on_peer_closed = [this](const peer_info& p, boost::system::error_code ec) {
            closed[p.address] = {ec, clock::now()};
        };
        cb.on_peer_dead = [this](const peer_info& p, const verdict& v) { dead[p.address] = v; };
        server.emplace(ioc, loopback(), scfg, cb);
        server->async_run([this](boost::system::error_code) { server_done = true; });
        for (std::size_t i = 0; i < kGoodClients; ++i)
            add_client();
        ASSERT_TRUE(run_until(
            ioc, [&] { return all_clients_progressed({}, 5, 2); }, 10s))
            << "the good clients never got going";
    }

    void TearDown() override {
        for (auto& c : clients) {
            c->stop = true;
            if (!c->ended)
                c->session->close();
        }
        run_until(
            ioc, [&] { return all_clients_ended(); }, 5s);
        server->close();
        for (auto& r : raws) {
            boost::system::error_code ignored;
            r->socket.close(ignored);
        }
        run_until(
            ioc,
            [&] {
                for (auto& c : clients)
                    if (!c->loop_done)
                        return false;
                for (auto& r : raws)
                    if (!r->eof || !r->writer_done)
                        return false;
                return server_done;
            },
            5s);
        EXPECT_TRUE(server_done);
    }

    good_client& add_client() {
        auto c = std::make_unique<good_client>();
        tcp::socket s(ioc);
        s.connect(server->local_endpoint());
        auto cfg = fast_config(150ms, 500ms, 3);
        cfg.heartbeat.liveness = liveness_mode::pong_only;
        session_callbacks cb;
        auto* raw = c.get();
        cb.on_rtt = [raw](duration, const rtt_estimator&) { ++raw->rtts; };
        cb.on_verdict = [raw](const verdict&) { raw->dead = true; };
        c->session.emplace(std::move(s), cfg, cb);
        c->session->async_run([raw](boost::system::error_code ec) {
            raw->reason = ec;
            raw->ended = true;
        });
        asio::co_spawn(ioc, echo_loop(*raw, clients.size()), asio::detached);
        clients.push_back(std::move(c));
        return *raw;
    }

    struct progress {
        std::size_t echoes;
        int rtts;
    };
    std::vector<progress> snapshot() const {
        std::vector<progress> out;
        for (auto& c : clients)
            out.push_back({c->echoes, c->rtts});
        return out;
    }
    bool all_clients_progressed(const std::vector<progress>& since, std::size_t echoes,
                                int rtts) const {
        for (std::size_t i = 0; i < clients.size(); ++i) {
            const progress base = i < since.size() ? since[i] : progress{0, 0};
            if (clients[i]->echoes < base.echoes + echoes || clients[i]->rtts < base.rtts + rtts)
                return false;
        }
        return true;
    }
    bool all_clients_ended() const {
        for (auto& c : clients)
            if (!c->ended)
                return false;
        return true;
    }

    static std::string address_of(const tcp::socket& s) {
        const auto ep = s.local_endpoint();
        return ep.address().to_string() + ":" + std::to_string(ep.port());
    }

    // Connects a raw peer and starts reading (and recording) what the server sends it; `eof`
    // is set when the server hangs up.
    raw_peer& connect_raw(error expected) {
        tcp::socket s(ioc);
        s.connect(server->local_endpoint());
        auto r = std::make_unique<raw_peer>(std::move(s));
        r->address = address_of(r->socket);
        r->expected = expected;
        auto* p = r.get();
        raws.push_back(std::move(r));
        asio::co_spawn(
            ioc,
            [p]() -> asio::awaitable<void> {
                co_await read_raw_frames(p->socket, p->frames, [](const frame&) {});
                p->eof = true;
            },
            asio::detached);
        return *p;
    }

    // HELLO, then a PING every millisecond until the server hangs up (at most 5000).
    void flood_pings(raw_peer& r) {
        r.writer_done = false;
        auto* p = &r;
        asio::co_spawn(
            ioc,
            [p]() -> asio::awaitable<void> {
                auto hello = hello_bytes();
                auto [hec, hn] = co_await asio::async_write(p->socket, asio::buffer(hello),
                                                            asio::as_tuple(asio::use_awaitable));
                asio::steady_timer every(co_await asio::this_coro::executor);
                for (std::uint64_t seq = 1; !hec && seq <= 5000 && !p->eof; ++seq) {
                    auto ping = frame_bytes(ping_frame{seq, seq});
                    auto [ec, n] = co_await asio::async_write(p->socket, asio::buffer(ping),
                                                              asio::as_tuple(asio::use_awaitable));
                    if (ec)
                        break;
                    ++p->written;
                    every.expires_after(1ms);
                    co_await every.async_wait(asio::as_tuple(asio::use_awaitable));
                }
                p->writer_done = true;
            },
            asio::detached);
    }

    bool ended(const raw_peer& r) { return closed.count(r.address) && r.eof; }

    // After a bad peer was dealt with: the good clients never noticed, and a new client is
    // welcome.
    void expect_bystanders_unharmed(const std::vector<progress>& before) {
        EXPECT_TRUE(run_until(
            ioc, [&] { return all_clients_progressed(before, 20, 2); }, 10s))
            << "the good clients stalled";
        for (std::size_t i = 0; i < clients.size(); ++i) {
            EXPECT_FALSE(clients[i]->dead) << "client " << i << " got a verdict";
            EXPECT_FALSE(clients[i]->ended)
                << "client " << i << " ended: " << clients[i]->reason.message();
            EXPECT_FALSE(clients[i]->mismatch) << "client " << i;
            EXPECT_EQ(clients[i]->session->stats().state, peer_state::alive);
        }
        auto& newcomer = add_client();
        EXPECT_TRUE(run_until(
            ioc, [&] { return newcomer.echoes >= 3; }, 5s))
            << "the server stopped accepting";
        EXPECT_EQ(server->stats().active, clients.size());
    }

    // The bad session ended with its expected reason, on both the server's and the peer's
    // account.
    void expect_ended_as_expected(const raw_peer& r) {
        ASSERT_TRUE(closed.count(r.address)) << r.address << " never ended";
        EXPECT_EQ(closed[r.address].reason, r.expected)
            << r.address << " ended with " << error_name(closed[r.address].reason) << ", expected "
            << error_name(r.expected);
        EXPECT_TRUE(r.eof) << "the server did not hang up on " << r.address;
        const seen_frame* c = find_close(r.frames);
        ASSERT_NE(c, nullptr) << "no CLOSE frame told " << r.address << " why";
        EXPECT_EQ(c->close_reason, error_name(r.expected));
        EXPECT_EQ(dead.count(r.address) != 0, r.expected == error::peer_dead)
            << r.address << ": a verdict iff the peer went silent";
    }
};

} // namespace

TEST_F(ServerBadPeer, GarbageBytesEndWithUnknownFrameType) {
    const auto before = snapshot();
    auto& r = connect_raw(error::unknown_frame_type);
    asio::write(r.socket, asio::buffer(std::string("GET / HTTP/1.1\r\nHost: heartbeat\r\n\r\n")));
    ASSERT_TRUE(run_until(
        ioc, [&] { return ended(r); }, 5s));
    expect_ended_as_expected(r);
    EXPECT_EQ(server->stats().endings["unknown_frame_type"], 1u);
    expect_bystanders_unharmed(before);
}

TEST_F(ServerBadPeer, ValidFrameBeforeHelloEndsWithDataBeforeHello) {
    const auto before = snapshot();
    auto& r = connect_raw(error::data_before_hello);
    asio::write(r.socket, asio::buffer(frame_bytes(ping_frame{1, 0})));
    ASSERT_TRUE(run_until(
        ioc, [&] { return ended(r); }, 5s));
    expect_ended_as_expected(r);
    EXPECT_EQ(server->stats().endings["data_before_hello"], 1u);
    expect_bystanders_unharmed(before);
}

TEST_F(ServerBadPeer, OversizeFrameHeaderEndsWithFrameTooLarge) {
    const auto before = snapshot();
    auto& r = connect_raw(error::frame_too_large);
    auto bytes = hello_bytes();
    bytes.insert(bytes.end(),
                 {static_cast<std::uint8_t>(frame_type::data), flag_fin, 0xFF, 0xFF, 0xFF, 0xFF});
    asio::write(r.socket, asio::buffer(bytes));
    ASSERT_TRUE(run_until(
        ioc, [&] { return ended(r); }, 5s));
    expect_ended_as_expected(r);
    EXPECT_EQ(server->stats().endings["frame_too_large"], 1u);
    expect_bystanders_unharmed(before);
}

TEST_F(ServerBadPeer, PingFloodGetsSlowDownThenTooManyPings) {
    const auto before = snapshot();
    auto& r = connect_raw(error::too_many_pings);
    flood_pings(r);
    ASSERT_TRUE(run_until(
        ioc, [&] { return ended(r); }, 10s));
    expect_ended_as_expected(r);
    EXPECT_EQ(server->stats().endings["too_many_pings"], 1u);
    // Warned first (one SLOW_DOWN per strike, naming the minimum interval), closed after.
    EXPECT_EQ(count_frames(r.frames, frame_type::slow_down), scfg.session.max_ping_strikes);
    std::size_t first_slow_down = r.frames.size(), close_at = r.frames.size();
    for (std::size_t i = 0; i < r.frames.size(); ++i) {
        if (r.frames[i].type == frame_type::slow_down) {
            first_slow_down = std::min(first_slow_down, i);
            EXPECT_EQ(r.frames[i].min_interval_ms, 100u);
        }
        if (r.frames[i].type == frame_type::close)
            close_at = std::min(close_at, i);
    }
    EXPECT_LT(first_slow_down, close_at);
    EXPECT_GE(r.written, 3u);
    expect_bystanders_unharmed(before);
}

TEST_F(ServerBadPeer, HalfSentFrameHeldOpenEndsWithPeerDeadAfterTheBudget) {
    const auto before = snapshot();
    auto& r = connect_raw(error::peer_dead);
    auto bytes = hello_bytes();
    // Three bytes of a PING header, then nothing, ever.
    bytes.insert(bytes.end(), {static_cast<std::uint8_t>(frame_type::ping), 0, 0});
    asio::write(r.socket, asio::buffer(bytes));
    const time_point sent = clock::now();
    const duration budget = silence_budget(scfg.session.heartbeat);
    ASSERT_TRUE(run_until(
        ioc, [&] { return ended(r); }, budget + 5s));
    expect_ended_as_expected(r);
    EXPECT_EQ(server->stats().endings["peer_dead"], 1u);
    ASSERT_TRUE(dead.count(r.address) && dead[r.address].has_value());
    const verdict& v = *dead[r.address];
    EXPECT_GE(v.silence, budget);
    EXPECT_LE(v.silence, budget + 200ms);
    EXPECT_GE(closed[r.address].at - sent, budget);
    EXPECT_LE(closed[r.address].at - sent, budget + 1s);
    // The server pinged it max_missed times before giving up.
    EXPECT_EQ(count_frames(r.frames, frame_type::ping), scfg.session.heartbeat.max_missed);
    expect_bystanders_unharmed(before);
}

TEST_F(ServerBadPeer, AllBadPeersAtOnce) {
    const auto before = snapshot();
    auto& garbage = connect_raw(error::unknown_frame_type);
    asio::write(garbage.socket, asio::buffer(std::string(100, '\xEE')));
    auto& early = connect_raw(error::data_before_hello);
    asio::write(early.socket, asio::buffer(frame_bytes(ack_frame{.delivered = 1})));
    auto& oversize = connect_raw(error::frame_too_large);
    auto big = hello_bytes();
    big.insert(big.end(), {static_cast<std::uint8_t>(frame_type::data), 0, 0xFF, 0xFF, 0xFF, 0xFF});
    asio::write(oversize.socket, asio::buffer(big));
    auto& half = connect_raw(error::peer_dead);
    auto partial = hello_bytes();
    partial.insert(partial.end(), {static_cast<std::uint8_t>(frame_type::data), 0, 0});
    asio::write(half.socket, asio::buffer(partial));
    auto& flood = connect_raw(error::too_many_pings);
    flood_pings(flood);

    const duration budget = silence_budget(scfg.session.heartbeat);
    ASSERT_TRUE(run_until(
        ioc,
        [&] {
            for (auto& r : raws)
                if (!ended(*r))
                    return false;
            return true;
        },
        budget + 5s));
    for (auto& r : raws)
        expect_ended_as_expected(*r);
    const auto st = server->stats();
    EXPECT_EQ(st.ended, raws.size());
    for (const char* name : {"unknown_frame_type", "data_before_hello", "frame_too_large",
                             "peer_dead", "too_many_pings"})
        EXPECT_EQ(st.endings.count(name) ? st.endings.at(name) : 0u, 1u) << name;
    expect_bystanders_unharmed(before);
}
