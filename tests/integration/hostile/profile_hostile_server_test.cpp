// Hostile fake servers facing our RESP, MQTT and line sessions — misbehaviour no real Redis,
// broker or line server produces: a handshake reply cut short and held (the handshake deadline
// ends it), a reply trickled one byte at a time forever (partial replies are no proof of life:
// the silence budget ends it), and extreme lengths (RESP $4294967295 and *4294967295, MQTT
// remaining length 268435455 and 5-byte varints, an endless line): a named error at once, with
// no allocation of the claimed size (peak RSS measured).
#include "hostile_support.hpp"

#include <heartbeat/protocol/profile_sessions.hpp>

#include <gtest/gtest.h>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

template <class Config>
Config fast(Config c) {
    c.heartbeat.interval = 100ms;
    c.heartbeat.pong_timeout = 200ms;
    c.heartbeat.max_missed = 3; // budget 700 ms
    c.heartbeat.jitter = 0.0;
    c.handshake_timeout = 500ms;
    return c;
}

// Our session of type Session on one end of a loopback connection, a raw socket playing the
// server on the other; the raw side reads (and discards) whatever we send.
template <class Session>
struct fake_server {
    asio::io_context& ioc;
    std::unique_ptr<raw_side> raw;
    std::optional<Session> session;
    bool ended = false;
    boost::system::error_code reason;
    time_point started{}, ended_at{};
    std::optional<verdict> dead;

    fake_server(asio::io_context& io, const typename Session::config_type& cfg) : ioc(io) {
        tcp::acceptor acceptor(ioc, loopback());
        tcp::socket ours(ioc);
        ours.connect(acceptor.local_endpoint());
        raw = std::make_unique<raw_side>(acceptor.accept());
        read_and_discard(*raw);
        session_callbacks cb;
        cb.on_verdict = [this](const verdict& v) { dead = v; };
        session.emplace(std::move(ours), cfg, cb);
        started = clock::now();
        session->async_run([this](boost::system::error_code ec) {
            reason = ec;
            ended = true;
            ended_at = clock::now();
        });
    }
    ~fake_server() {
        if (!ended)
            session->close();
        boost::system::error_code ignored;
        raw->socket.close(ignored);
        run_until(
            ioc, [&] { return ended && raw->eof && raw->writer_done; }, 10s);
    }

    // Waits until our session has written something (its handshake or first ping), so what the
    // fake server sends is a reply.
    bool wait_for_request() {
        return run_until(
            ioc, [&] { return raw->bytes_read > 0 || ended; }, 5s);
    }
    void send(const std::string& bytes) { asio::write(raw->socket, asio::buffer(bytes)); }
    bool wait_end(duration limit) {
        return run_until(
            ioc, [&] { return ended; }, limit);
    }
};

const char* ended_name(bool ended, boost::system::error_code ec) {
    return ended ? error_name(ec) : "still running";
}

template <class Session>
void expect_handshake_timeout(const typename Session::config_type& cfg, const std::string& cut,
                              const char* what) {
    asio::io_context ioc;
    fake_server<Session> f(ioc, cfg);
    ASSERT_TRUE(f.wait_for_request()) << what;
    f.send(cut);
    const bool ended = f.wait_end(5s);
    std::printf("[ figures  ] %s, cut short and held: %s after %.0f ms\n", what,
                ended_name(ended, f.reason), to_ms(clock::now() - f.started));
    ASSERT_TRUE(ended) << what;
    EXPECT_EQ(f.reason, error::handshake_timeout) << what << ": " << error_name(f.reason);
    EXPECT_GE(f.ended_at - f.started, 450ms);
    EXPECT_LE(f.ended_at - f.started, 2s);
}

TEST(ProfileHostileServer, HandshakeReplyCutShortAndHeldEndsAtTheHandshakeDeadline) {
    resp_config r3 = fast(resp_config{});
    expect_handshake_timeout<redis_session>(r3, "%", "RESP3 HELLO reply, 1 byte");
    resp_config r2 = fast(resp_config{});
    r2.protocol = 2;
    expect_handshake_timeout<redis_session>(r2, "+PON", "RESP2 PING reply, 4 bytes");
    expect_handshake_timeout<mqtt_tcp_session>(fast(mqtt_config{}), std::string("\x20", 1),
                                               "MQTT CONNACK, 1 byte");
    expect_handshake_timeout<mqtt_tcp_session>(fast(mqtt_config{}), std::string("\x20\x02\x00", 3),
                                               "MQTT CONNACK, 3 of 4 bytes");
}

// After the handshake, a reply that never ends, one byte every 50 ms: a verdict within the
// budget, as for a silent server.
template <class Session>
void expect_trickle_ends(const typename Session::config_type& cfg, const std::string& handshake,
                         const std::string& endless, const char* what) {
    asio::io_context ioc;
    fake_server<Session> f(ioc, cfg);
    ASSERT_TRUE(f.wait_for_request()) << what;
    if (!handshake.empty())
        f.send(handshake);
    const time_point start = clock::now();
    trickle(*f.raw, bytes_of(endless), 50ms);
    const duration budget = silence_budget(cfg.heartbeat);
    const bool ended = f.wait_end(budget + 10s);
    std::printf("[ figures  ] %s trickled 1 byte / 50 ms: %s after %.0f ms (budget %.0f ms)\n",
                what, ended_name(ended, f.reason), to_ms(clock::now() - start), to_ms(budget));
    ASSERT_TRUE(ended) << what << ": a reply trickled forever kept the session alive";
    EXPECT_EQ(f.reason, error::peer_dead) << what << ": " << error_name(f.reason);
    ASSERT_TRUE(f.dead.has_value()) << what;
    EXPECT_GE(f.dead->silence, budget);
    EXPECT_LE(f.dead->silence, budget + 300ms);
    EXPECT_LT(f.raw->bytes_trickled, endless.size()) << what;
}

TEST(ProfileHostileServer, ReplyTrickledForeverEndsWithPeerDeadWithinTheBudget) {
    resp_config r2 = fast(resp_config{});
    r2.protocol = 2;
    expect_trickle_ends<redis_session>(r2, "+PONG\r\n", "$1000\r\n" + std::string(1000, 'x'),
                                       "RESP bulk reply of 1000 bytes");
    expect_trickle_ends<mqtt_tcp_session>(fast(mqtt_config{}), std::string("\x20\x02\x00\x00", 4),
                                          std::string("\x30\x7F", 2) + std::string(127, 'x'),
                                          "MQTT packet of 127 bytes");
    line_config l = fast(line_config{});
    expect_trickle_ends<line_tcp_session>(l, "", "PONG" + std::string(1000, 'x'),
                                          "line that never ends");
}

struct length_case {
    const char* what;
    std::string handshake; // the valid reply that completes our handshake first, if any
    std::string bytes;
    error expected;
};

template <class Session>
void expect_named_errors(const typename Session::config_type& cfg,
                         const std::vector<length_case>& cases) {
    for (const auto& c : cases) {
        asio::io_context ioc;
        fake_server<Session> f(ioc, cfg);
        ASSERT_TRUE(f.wait_for_request()) << c.what;
        const time_point start = clock::now();
        f.send(c.handshake + c.bytes);
        const bool ended = f.wait_end(5s);
        std::printf("[ figures  ] %s: %s after %.1f ms\n", c.what, ended_name(ended, f.reason),
                    to_ms(clock::now() - start));
        ASSERT_TRUE(ended) << c.what;
        EXPECT_EQ(f.reason, c.expected) << c.what << ": " << error_name(f.reason);
    }
}

TEST(ProfileHostileServer, ExtremeLengthsEndWithANamedErrorAndNoLargeAllocation) {
    ASSERT_TRUE(reset_peak_rss());
    const std::size_t rss_before = rss_kib();
    // Default limits (max_message_size 256 MiB): the claims below the limit must not be
    // allocated up front either, only as their bytes arrive.
    resp_config r2 = fast(resp_config{});
    r2.protocol = 2;
    expect_named_errors<redis_session>(
        r2, {
                {"RESP bulk $4294967295", "", "$4294967295\r\n", error::frame_too_large},
                {"RESP array *4294967295", "", "*4294967295\r\n", error::frame_too_large},
                {"RESP bulk $99999999999999999999 (overflows 64 bits)", "",
                 "$99999999999999999999\r\n", error::frame_too_large},
                {"RESP bulk $-2", "", "$-2\r\n", error::malformed_frame},
                {"RESP map %4294967295 after the handshake", "+PONG\r\n", "%4294967295\r\n",
                 error::frame_too_large},
            });
    expect_named_errors<mqtt_tcp_session>(
        fast(mqtt_config{}),
        {
            {"MQTT CONNACK remaining length 268435455 (the varint maximum)", "",
             std::string("\x20\xFF\xFF\xFF\x7F", 5), error::frame_too_large},
            {"MQTT CONNACK remaining length as a 5-byte varint", "",
             std::string("\x20\xFF\xFF\xFF\xFF\x01", 6), error::malformed_frame},
            {"MQTT PINGRESP remaining length 268435455 after CONNACK",
             std::string("\x20\x02\x00\x00", 4), std::string("\xD0\xFF\xFF\xFF\x7F", 5),
             error::frame_too_large},
        });
    line_config l = fast(line_config{});
    l.max_line_length = 64 * 1024;
    expect_named_errors<line_tcp_session>(
        l, {{"line of 70000 bytes with no end (max_line_length 64 KiB)", "",
             std::string(70000, 'x'), error::frame_too_large}});
    const std::size_t peak = peak_rss_kib();
    std::printf("[ figures  ] peak RSS growth over the profile length cases: %zu KiB\n",
                peak > rss_before ? peak - rss_before : 0);
    if (rss_is_meaningful)
        EXPECT_LT(peak, rss_before + 32 * 1024) << "a length field was allocated";
}

// A claim just under the limit, held: our read buffer grows with the bytes that arrive, not with
// the length the header claims (200 MB claimed, a few bytes sent).
TEST(ProfileHostileServer, ClaimUnderTheLimitIsNotAllocatedUpFront) {
    ASSERT_TRUE(reset_peak_rss());
    const std::size_t rss_before = rss_kib();
    asio::io_context ioc;
    resp_config r2 = fast(resp_config{});
    r2.protocol = 2;
    fake_server<redis_session> resp(ioc, r2);
    fake_server<mqtt_tcp_session> mqtt(ioc, fast(mqtt_config{}));
    ASSERT_TRUE(resp.wait_for_request() && mqtt.wait_for_request());
    resp.send("+PONG\r\n$200000000\r\nabc");
    // 200,000,000 remaining bytes as a varint: 0x80 | 0x00, 0x80 | 0x04, 0x80 | 0x2F, 0x5F.
    mqtt.send(std::string("\x20\x02\x00\x00", 4) + std::string("\x30\x80\x84\xAF\x5F", 5) + "abc");
    run_until(
        ioc, [&] { return resp.ended && mqtt.ended; }, 2s);
    const std::size_t peak = peak_rss_kib();
    std::printf("[ figures  ] 200 MB claimed by a RESP bulk and an MQTT PUBLISH header, held: "
                "peak RSS growth %zu KiB; endings %s, %s\n",
                peak > rss_before ? peak - rss_before : 0, ended_name(resp.ended, resp.reason),
                ended_name(mqtt.ended, mqtt.reason));
    if (rss_is_meaningful)
        EXPECT_LT(peak, rss_before + 32 * 1024) << "the claimed length was allocated up front";
    EXPECT_TRUE(resp.wait_end(5s) && mqtt.wait_end(5s)) << "held claims outlived the budget";
    EXPECT_EQ(resp.reason, error::peer_dead) << error_name(resp.reason);
    EXPECT_EQ(mqtt.reason, error::peer_dead) << error_name(mqtt.reason);
}

} // namespace
