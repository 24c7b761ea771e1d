// A hostile WebSocket *server* facing our side: the client supervisor's upgrade answered with one
// byte, or with a 101 response trickled slower than the handshake deadline (a silent server is
// client/client_websocket_test.cpp's); and, after a good upgrade, a frame trickled to our
// ws_session one byte at a time forever, or a frame claiming 2^32-1 bytes.
#include "client_test_support.hpp"
#include "hostile_support.hpp"
#include "websocket_test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/protocol/websocket/websocket_session.hpp>

#include <gtest/gtest.h>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;
namespace cs = heartbeat::test::client_support;

namespace {

// Accepts connections; each gets read_and_discard and then `answer` written by `write`.
class hostile_ws_server {
public:
    hostile_ws_server(asio::io_context& ioc, std::function<void(raw_side&)> answer)
        : acceptor_(ioc, loopback()), answer_(std::move(answer)) {
        next();
    }
    ~hostile_ws_server() {
        for (auto& r : raws_) {
            boost::system::error_code ignored;
            r->socket.close(ignored);
        }
    }
    unsigned short port() const { return acceptor_.local_endpoint().port(); }
    std::vector<std::unique_ptr<raw_side>>& raws() { return raws_; }

private:
    void next() {
        acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket s) {
            if (ec)
                return;
            raws_.push_back(std::make_unique<raw_side>(std::move(s)));
            read_and_discard(*raws_.back());
            answer_(*raws_.back());
            next();
        });
    }
    tcp::acceptor acceptor_;
    std::function<void(raw_side&)> answer_;
    std::vector<std::unique_ptr<raw_side>> raws_;
};

void expect_upgrade_timeout(std::function<void(raw_side&)> answer, const char* what) {
    asio::io_context ioc;
    hostile_ws_server server(ioc, std::move(answer));
    client_config cfg;
    cfg.session.handshake_timeout = 300ms;
    cfg.give_up.max_attempts = 1;
    cs::event_log log;
    const auto ep = parse_endpoint("ws://127.0.0.1:" + std::to_string(server.port()) + "/");
    ASSERT_TRUE(ep.has_value());
    client c(ioc.get_executor(), {*ep}, cfg, log.callback());
    bool done = false;
    boost::system::error_code reason;
    const time_point start = clock::now();
    c.async_run([&](boost::system::error_code ec) {
        done = true;
        reason = ec;
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return done; }, 10s))
        << log.describe();
    EXPECT_EQ(reason, error::all_endpoints_failed) << reason.message();
    EXPECT_EQ(log.count(client_event_kind::connected), 0u) << log.describe();
    int timeouts = 0;
    for (const auto& e : log.snapshot())
        if (e.event.kind == client_event_kind::closed) {
            EXPECT_EQ(e.event.reason, error::handshake_timeout) << e.event.reason.message();
            EXPECT_GE(e.at - start, 300ms);
            EXPECT_LT(e.at - start, 2s);
            std::printf("[ figures  ] ws client, %s: %s after %.0f ms\n", what,
                        error_name(e.event.reason), to_ms(e.at - start));
            ++timeouts;
        }
    EXPECT_EQ(timeouts, 1) << log.describe();
    EXPECT_EQ(server.raws().size(), 1u);
}

TEST(WebSocketClientHostile, UpgradeAnsweredByOneByteOrTrickledEndsAtTheHandshakeDeadline) {
    expect_upgrade_timeout([](raw_side& r) { asio::write(r.socket, asio::buffer("H", 1)); },
                           "101 response cut after 1 byte");
    const std::string response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                 "Connection: Upgrade\r\n"
                                 "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    expect_upgrade_timeout([&](raw_side& r) { trickle(r, bytes_of(response), 20ms); },
                           "101 response trickled 1 byte / 20 ms");
}

// After a real upgrade, the server end turns hostile on our ws_session.
struct upgraded_hostile {
    asio::io_context ioc;
    std::optional<ws_session> session;
    std::unique_ptr<raw_side> raw;
    bool ended = false;
    boost::system::error_code reason;
    time_point ended_at{};
    std::optional<verdict> dead;

    bool start() {
        auto p = wstest::upgrade_pair(ioc);
        if (!p.upgraded)
            return false;
        raw = std::make_unique<raw_side>(std::move(p.server.next_layer()));
        read_and_discard(*raw);
        session_callbacks cb;
        cb.on_verdict = [this](const verdict& v) { dead = v; };
        session.emplace(std::move(p.client), wstest::fast_ws_config(100ms, 200ms, 3), cb);
        session->async_run([this](boost::system::error_code ec) {
            reason = ec;
            ended = true;
            ended_at = clock::now();
        });
        return true;
    }
    ~upgraded_hostile() {
        if (session && !ended)
            session->close();
        if (raw) {
            boost::system::error_code ignored;
            raw->socket.close(ignored);
            run_until(
                ioc, [&] { return ended && raw->eof && raw->writer_done; }, 10s);
        }
    }
};

// Server frames are unmasked: FIN + binary, 16-bit length 1000.
TEST(WebSocketClientHostile, FrameTrickledForeverEndsWithPeerDeadWithinTheBudget) {
    upgraded_hostile h;
    ASSERT_TRUE(h.start());
    std::vector<std::uint8_t> bytes{0x82, 126, 0x03, 0xE8};
    bytes.resize(bytes.size() + 1000, 'x');
    trickle(*h.raw, bytes, 50ms);
    const duration budget = 100ms + 3 * 200ms;
    ASSERT_TRUE(run_until(
        h.ioc, [&] { return h.ended; }, budget + 10s))
        << "a frame trickled forever kept our ws_session alive";
    EXPECT_EQ(h.reason, error::peer_dead) << error_name(h.reason);
    ASSERT_TRUE(h.dead.has_value());
    EXPECT_GE(h.dead->silence, budget);
    EXPECT_LE(h.dead->silence, budget + 300ms);
    std::printf("[ figures  ] ws client, frame trickled 1 byte / 50 ms: %s at %.0f ms of "
                "silence\n",
                error_name(h.reason), to_ms(h.dead->silence));
}

TEST(WebSocketClientHostile, FrameClaiming4GiBEndsWithMessageTooLarge) {
    upgraded_hostile h;
    ASSERT_TRUE(h.start());
    const std::vector<std::uint8_t> header{0x82, 127, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF};
    asio::write(h.raw->socket, asio::buffer(header));
    h.raw->socket.shutdown(tcp::socket::shutdown_send); // Beast's teardown waits for our EOF
    ASSERT_TRUE(run_until(
        h.ioc, [&] { return h.ended; }, 5s));
    EXPECT_EQ(h.reason, error::message_too_large) << error_name(h.reason);
}

} // namespace
