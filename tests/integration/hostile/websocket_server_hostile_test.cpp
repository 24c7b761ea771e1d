// Hostile peers against heartbeat::websocket_server, speaking raw bytes: an upgrade request cut
// short or trickled (the handshake deadline ends it), frame lengths up to 2^64-1 (a named error
// before anything is allocated), a data frame trickled one byte at a time forever (must end
// within the silence budget), and a ping flood (WebSocket has no SLOW_DOWN: the flood is answered
// and the server keeps serving). Each time a well-behaved raw client still gets its echo.
#include "hostile_support.hpp"

#include <heartbeat/server/websocket_server.hpp>

#include <boost/beast/websocket/error.hpp>

#include <gtest/gtest.h>

#include <map>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

constexpr auto kHandshakeTimeout = 500ms;

const std::string kUpgrade =
    "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\n\r\n";

// A client frame header (FIN set, masked with a zero key, so the payload goes as is) whose
// length is encoded in `form` bytes: 0 (7-bit), 2 (16-bit) or 8 (64-bit), minimal or not.
std::vector<std::uint8_t> ws_header(std::uint8_t opcode, std::uint64_t length, int form) {
    std::vector<std::uint8_t> h{static_cast<std::uint8_t>(0x80 | opcode)};
    if (form == 0) {
        h.push_back(static_cast<std::uint8_t>(0x80 | length));
    } else {
        h.push_back(form == 2 ? 0x80 | 126 : 0x80 | 127);
        for (int i = form - 1; i >= 0; --i)
            h.push_back(static_cast<std::uint8_t>(length >> (8 * i)));
    }
    h.insert(h.end(), {0, 0, 0, 0}); // masking key
    return h;
}

websocket_server_config make_config() {
    websocket_server_config c;
    c.session.heartbeat.interval = 100ms;
    c.session.heartbeat.pong_timeout = 200ms;
    c.session.heartbeat.max_missed = 3; // budget 700 ms
    c.session.heartbeat.jitter = 0.0;
    c.session.max_message_size = 1u << 20;
    c.handshake_timeout = kHandshakeTimeout;
    return c;
}

struct ending {
    boost::system::error_code reason;
    time_point at{};
    std::optional<verdict> dead;
};

class WebSocketServerHostile : public ::testing::Test {
protected:
    asio::io_context ioc;
    const websocket_server_config cfg = make_config();
    std::optional<websocket_server> server;
    bool server_done = false;
    std::map<std::string, ending> endings;
    std::vector<std::unique_ptr<raw_side>> raws;

    void SetUp() override {
        server_callbacks cb;
        cb.on_peer_dead = [this](const peer_info& p, const verdict& v) {
            endings[p.address].dead = v;
        };
        cb.on_peer_closed = [this](const peer_info& p, boost::system::error_code ec) {
            endings[p.address].reason = ec;
            endings[p.address].at = clock::now();
        };
        server.emplace(ioc, loopback(), cfg, cb);
        server->async_run([this](boost::system::error_code) { server_done = true; });
    }

    void TearDown() override {
        server->close();
        for (auto& r : raws) {
            boost::system::error_code ignored;
            r->socket.close(ignored);
        }
        EXPECT_TRUE(run_until(
            ioc,
            [&] {
                for (auto& r : raws)
                    if (!r->eof || !r->writer_done)
                        return false;
                return server_done;
            },
            10s));
    }

    raw_side& connect_raw() {
        tcp::socket s(ioc);
        s.connect(server->local_endpoint());
        raws.push_back(std::make_unique<raw_side>(std::move(s)));
        read_and_discard(*raws.back());
        return *raws.back();
    }

    // A raw peer upgraded by hand (the 101 response read), ready for raw frames.
    raw_side& upgraded_raw() {
        auto& r = connect_raw();
        asio::write(r.socket, asio::buffer(kUpgrade));
        EXPECT_TRUE(run_until(
            ioc, [&] { return r.head.find("\r\n\r\n") != std::string::npos || r.eof; }, 5s));
        EXPECT_EQ(r.head.rfind("HTTP/1.1 101", 0), 0u) << r.head;
        return r;
    }

    // on_peer_closed has run for this peer (on_peer_dead, when there is a verdict, runs first).
    bool closed(const std::string& address) const {
        auto it = endings.find(address);
        return it != endings.end() && it->second.at != time_point{};
    }

    static std::string address_of(const raw_side& r) {
        const auto ep = r.socket.local_endpoint();
        return ep.address().to_string() + ":" + std::to_string(ep.port());
    }

    // A well-behaved raw client: upgrade, one masked binary message, its echo back.
    void expect_server_still_serves() {
        auto& r = upgraded_raw();
        const std::size_t before = r.bytes_read;
        auto msg = ws_header(0x2, 5, 0);
        msg.insert(msg.end(), {'h', 'e', 'l', 'l', 'o'});
        asio::write(r.socket, asio::buffer(msg));
        EXPECT_TRUE(run_until(
            ioc, [&] { return r.head.find("hello") != std::string::npos || r.eof; }, 5s))
            << "no echo: the server stopped serving";
        EXPECT_GT(r.bytes_read, before);
    }
};

TEST_F(WebSocketServerHostile, UpgradeCutShortOrTrickledEndsAtTheHandshakeDeadline) {
    const time_point start = clock::now();
    auto& one_byte = connect_raw();
    asio::write(one_byte.socket, asio::buffer(kUpgrade.data(), 1));
    auto& trickled = connect_raw();
    trickle(trickled, bytes_of(kUpgrade), 20ms); // ~4 s for the whole request
    auto& silent = connect_raw();
    ASSERT_TRUE(run_until(
        ioc, [&] { return one_byte.eof && trickled.eof && silent.eof; }, 10s))
        << "a half-sent upgrade kept a connection open";
    for (raw_side* r : {&one_byte, &trickled, &silent}) {
        EXPECT_GE(r->eof_at - start, kHandshakeTimeout - 10ms);
        EXPECT_LE(r->eof_at - start, kHandshakeTimeout + 1500ms);
        EXPECT_EQ(r->head.find("101"), std::string::npos) << r->head;
    }
    EXPECT_LT(trickled.bytes_trickled, kUpgrade.size());
    EXPECT_EQ(server->stats().accepted, 0u) << "a half-sent upgrade became a session";
    std::printf("[ figures  ] websocket upgrade cut short after 1 byte: closed after %.0f ms "
                "(handshake_timeout %.0f ms)\n",
                to_ms(one_byte.eof_at - start), to_ms(kHandshakeTimeout));
    expect_server_still_serves();
}

struct length_case {
    const char* what;
    std::vector<std::uint8_t> header;
    boost::system::error_code expected;
};

// Each bad header is followed by the peer's FIN: Beast reports a protocol violation only once
// its teardown has read the peer's EOF (see the next test for a peer that holds on).
TEST_F(WebSocketServerHostile, ExtremeFrameLengthsEndWithANamedErrorAndNoLargeAllocation) {
    const std::vector<length_case> cases{
        {"binary, 64-bit length 2^32-1", ws_header(0x2, 0xFFFFFFFFull, 8),
         error::message_too_large},
        {"binary, 64-bit length 2^63-1", ws_header(0x2, 0x7FFFFFFFFFFFFFFFull, 8),
         error::message_too_large},
        // RFC 6455 wants the top bit clear; Beast does not check it, the size limit catches it.
        {"binary, 64-bit length with the top bit set (2^64-1)", ws_header(0x2, ~0ull, 8),
         error::message_too_large},
        {"binary, max_message_size+1 (1 MiB+1 in 64 bits)", ws_header(0x2, (1u << 20) + 1, 8),
         error::message_too_large},
        // Beast's protocol violations (bad_size, bad_control_size, bad_continuation here) are
        // all malformed_frame, as for every other profile.
        {"binary, 5 bytes in the 64-bit form (not minimal)", ws_header(0x2, 5, 8),
         error::malformed_frame},
        {"binary, 5 bytes in the 16-bit form (not minimal)", ws_header(0x2, 5, 2),
         error::malformed_frame},
        {"ping, 64-bit length 2^32-1 (control frames are at most 125)",
         ws_header(0x9, 0xFFFFFFFFull, 8), error::malformed_frame},
        {"continuation, 2^32-1, no message begun", ws_header(0x0, 0xFFFFFFFFull, 8),
         error::malformed_frame},
    };
    ASSERT_TRUE(reset_peak_rss());
    const std::size_t rss_before = rss_kib();
    for (const auto& c : cases) {
        auto& r = upgraded_raw();
        const time_point start = clock::now();
        asio::write(r.socket, asio::buffer(c.header));
        r.socket.shutdown(tcp::socket::shutdown_send);
        const std::string a = address_of(r);
        ASSERT_TRUE(run_until(
            ioc, [&] { return closed(a) && r.eof; }, 5s))
            << c.what;
        EXPECT_EQ(endings[a].reason, c.expected) << c.what << ": " << endings[a].reason.message()
                                                 << " (" << error_name(endings[a].reason) << ")";
        std::printf("[ figures  ] websocket server, %s: %s (%s) after %.1f ms\n", c.what,
                    error_name(endings[a].reason), endings[a].reason.message().c_str(),
                    to_ms(endings[a].at - start));
    }
    const std::size_t peak = peak_rss_kib();
    std::printf("[ figures  ] peak RSS growth over the websocket length cases: %zu KiB\n",
                peak > rss_before ? peak - rss_before : 0);
    if (rss_is_meaningful)
        EXPECT_LT(peak, rss_before + 32 * 1024) << "a length field was allocated";
    expect_server_still_serves();
}

// Known limitation, pinned: a bad header from a peer that then holds the connection open without
// reading to EOF. Beast fails the connection at once (close frame sent) but completes the read
// with its error only after its teardown has read the peer's EOF, and its close handshake is
// unbounded (the monitor bounds it): so the session ends with peer_dead after the silence
// budget instead of message_too_large at once. Bounded, but misnamed.
TEST_F(WebSocketServerHostile, ExtremeLengthHeldOpenEndsOnlyAtTheBudgetAsPeerDead) {
    auto& r = upgraded_raw();
    const time_point start = clock::now();
    asio::write(r.socket, asio::buffer(ws_header(0x2, 0xFFFFFFFFull, 8)));
    const std::string a = address_of(r);
    const duration budget = silence_budget(cfg.session.heartbeat);
    ASSERT_TRUE(run_until(
        ioc, [&] { return closed(a); }, budget + 10s));
    std::printf("[ figures  ] websocket server, 2^32-1 length then held open: %s after %.0f ms "
                "(budget %.0f ms)\n",
                error_name(endings[a].reason), to_ms(endings[a].at - start), to_ms(budget));
    EXPECT_EQ(endings[a].reason, error::peer_dead) << error_name(endings[a].reason);
    EXPECT_LE(endings[a].at - start, budget + 1s);
    EXPECT_GE(endings[a].at - start, budget - 50ms);
}

// A binary frame of 1000 bytes whose payload comes one byte every 50 ms (twice per ping
// interval) and never ends, from a peer that answers no ping: bytes of a frame that never
// completes must not count as life one by one, or the peer holds its session (and the server's
// resources) for as long as it likes. (Fails without the 4 KiB rule of websocket_link::on_read.)
TEST_F(WebSocketServerHostile, FrameTrickledForeverEndsWithPeerDeadWithinTheBudget) {
    auto& r = upgraded_raw();
    const time_point start = clock::now();
    auto bytes = ws_header(0x2, 1000, 2);
    bytes.resize(bytes.size() + 1000, 'x');
    trickle(r, bytes, 50ms);
    const duration budget = silence_budget(cfg.session.heartbeat);
    const std::string a = address_of(r);
    const bool ended = run_until(
        ioc, [&] { return closed(a); }, budget + 10s);
    std::printf("[ figures  ] websocket frame trickled 1 byte / 50 ms: %s after %.0f ms (%zu "
                "bytes trickled, budget %.0f ms)\n",
                ended ? error_name(endings[a].reason) : "still alive", to_ms(clock::now() - start),
                r.bytes_trickled, to_ms(budget));
    ASSERT_TRUE(ended) << "a frame trickled forever kept the session alive";
    EXPECT_EQ(endings[a].reason, error::peer_dead) << error_name(endings[a].reason);
    ASSERT_TRUE(endings[a].dead.has_value());
    EXPECT_GE(endings[a].dead->silence, budget);
    EXPECT_LE(endings[a].dead->silence, budget + 300ms);
    EXPECT_LT(r.bytes_trickled, bytes.size());
    expect_server_still_serves();
}

// The other side of the rule above: a healthy peer on a slow link sending one big frame (512 KiB
// at 8 KiB per 100 ms, 6.4 s, nine budgets) answers no ping until the frame is done, yet keeps
// its session, because every 4 KiB of the frame is proof of life; the echo comes back whole.
TEST_F(WebSocketServerHostile, BigFrameOnASlowLinkKeepsItsSession) {
    auto& r = upgraded_raw();
    constexpr std::size_t kSize = 512 * 1024, kStep = 8 * 1024;
    const auto header = ws_header(0x2, kSize, 8);
    asio::write(r.socket, asio::buffer(header));
    r.writer_done = false;
    asio::co_spawn(
        ioc,
        [&r]() -> asio::awaitable<void> {
            asio::steady_timer every(co_await asio::this_coro::executor);
            const std::string step(kStep, 's');
            for (std::size_t sent = 0; sent < kSize && !r.eof; sent += kStep) {
                auto [ec, n] = co_await asio::async_write(r.socket, asio::buffer(step),
                                                          asio::as_tuple(asio::use_awaitable));
                if (ec)
                    break;
                r.bytes_trickled += n;
                every.expires_after(100ms);
                co_await every.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            r.writer_done = true;
        },
        asio::detached);
    const std::size_t response = r.head.find("\r\n\r\n") + 4;
    const bool echoed = run_until(
        ioc, [&] { return r.bytes_read >= response + kSize + 10 || r.eof; }, 30s);
    const std::string a = address_of(r);
    EXPECT_TRUE(echoed && !r.eof) << "ended: "
                                  << (endings.count(a) ? error_name(endings[a].reason) : "no");
    EXPECT_EQ(endings.count(a), 0u) << "a healthy slow sender was declared dead";
    EXPECT_EQ(r.bytes_trickled, kSize);
}

// 5000 pings, one every 200 us, from a peer that never reads the pongs: WebSocket has no
// SLOW_DOWN (RFC 6455 says a ping must be answered), so the server answers and the peer stays
// alive; what must hold is that the server keeps serving others meanwhile and after.
TEST_F(WebSocketServerHostile, PingFloodIsAnsweredAndTheServerKeepsServing) {
    auto& r = upgraded_raw();
    auto ping = ws_header(0x9, 4, 0);
    ping.insert(ping.end(), {'f', 'l', 'o', 'd'});
    repeat(r, ping, 200us, 5000);
    run_for(ioc, 300ms);
    expect_server_still_serves();
    ASSERT_TRUE(run_until(
        ioc, [&] { return r.writer_done; }, 30s));
    const std::string a = address_of(r);
    // Every ping was answered: a pong of 4 payload bytes is 6 bytes on the wire.
    EXPECT_TRUE(run_until(
        ioc, [&] { return r.bytes_read >= r.head.find("\r\n\r\n") + 4 + 5000 * 6; }, 10s))
        << "read " << r.bytes_read << " bytes of pongs";
    std::printf("[ figures  ] websocket ping flood, 5000 pings: flooder %s, %zu bytes of pongs\n",
                endings.count(a) ? error_name(endings[a].reason) : "still connected", r.bytes_read);
    expect_server_still_serves();
}

} // namespace
