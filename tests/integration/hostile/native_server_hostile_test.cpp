// Hostile peers against a heartbeat::tcp_server, beyond server/server_bad_peer_test.cpp (garbage,
// early frames, an oversize header, a ping flood and three bytes of a header held open are
// there): a HELLO cut short or trickled (the handshake deadline ends it), a frame trickled one
// byte at a time after the handshake (partial frames are no proof of life: the silence budget
// ends it), and a peer that sends as fast as it can and never reads the echoes (the server's
// buffers stay bounded and the session ends with a verdict). Each time the server keeps serving
// a well-behaved client.
#include "hostile_support.hpp"

#include <heartbeat/server/server.hpp>

#include <gtest/gtest.h>

#include <map>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

constexpr auto kHandshakeTimeout = 500ms;

server_config make_config() {
    server_config c;
    c.session = fast_config(100ms, 200ms, 3); // budget 700 ms
    c.session.handshake_timeout = kHandshakeTimeout;
    c.session.receive_buffer_limit = 1u << 20;
    return c;
}

struct ending {
    boost::system::error_code reason;
    time_point at{};
    std::optional<verdict> dead;
};

class NativeServerHostile : public ::testing::Test {
protected:
    asio::io_context ioc;
    const server_config cfg = make_config();
    std::optional<tcp_server> server;
    bool server_done = false;
    std::map<std::string, ending> endings; // peer address -> how its session ended
    std::map<std::string, std::uint64_t> ids;
    std::vector<std::unique_ptr<raw_side>> raws;

    void SetUp() override {
        server_callbacks cb;
        cb.on_peer_connected = [this](const peer_info& p) { ids[p.address] = p.id; };
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

    raw_side& connect_raw(int receive_buffer = 0) {
        tcp::socket s(ioc);
        s.open(tcp::v4());
        if (receive_buffer)
            s.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
        s.connect(server->local_endpoint());
        raws.push_back(std::make_unique<raw_side>(std::move(s)));
        return *raws.back();
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

    // A well-behaved client still gets an echo after the hostile peer was dealt with.
    void expect_server_still_serves() {
        tcp::socket s(ioc);
        s.connect(server->local_endpoint());
        tcp_session good(std::move(s), fast_config(100ms, 500ms, 3));
        bool ended = false;
        good.async_run([&](boost::system::error_code) { ended = true; });
        std::string echoed;
        bool received = false;
        good.async_send("still there?", [](boost::system::error_code) {});
        good.async_receive([&](boost::system::error_code ec, std::string m) {
            received = !ec;
            echoed = std::move(m);
        });
        EXPECT_TRUE(run_until(
            ioc, [&] { return received; }, 10s))
            << "the server stopped serving";
        EXPECT_EQ(echoed, "still there?");
        good.close();
        EXPECT_TRUE(run_until(
            ioc, [&] { return ended; }, 5s));
    }
};

// A HELLO that never completes: one byte, then nothing; and a HELLO trickled one byte every
// 200 ms (it would take seconds): the handshake deadline ends both.
TEST_F(NativeServerHostile, HelloCutShortOrTrickledEndsAtTheHandshakeDeadline) {
    auto& one_byte = connect_raw();
    const time_point start = clock::now();
    const auto hello = hello_bytes();
    asio::write(one_byte.socket, asio::buffer(hello.data(), 1));
    read_and_discard(one_byte);
    auto& trickled = connect_raw();
    read_and_discard(trickled);
    trickle(trickled, hello, 200ms);
    auto& silent = connect_raw();
    read_and_discard(silent);

    ASSERT_TRUE(run_until(
        ioc,
        [&] {
            for (raw_side* r : {&one_byte, &trickled, &silent})
                if (!r->eof || !closed(address_of(*r)))
                    return false;
            return true;
        },
        10s))
        << "a half-sent HELLO kept a session open";
    for (raw_side* r : {&one_byte, &trickled, &silent}) {
        const std::string a = address_of(*r);
        ASSERT_TRUE(endings.count(a)) << a;
        EXPECT_EQ(endings[a].reason, error::handshake_timeout) << error_name(endings[a].reason);
        EXPECT_GE(endings[a].at - start, kHandshakeTimeout);
        EXPECT_LE(endings[a].at - start, kHandshakeTimeout + 1500ms);
        EXPECT_FALSE(endings[a].dead.has_value());
    }
    EXPECT_LT(trickled.bytes_trickled, hello.size()) << "the HELLO completed after all";
    EXPECT_GE(trickled.bytes_trickled, 2u) << "the trickle never got going";
    EXPECT_EQ(server->stats().endings["handshake_timeout"], 3u);
    RecordProperty("hello_one_byte_ms",
                   std::to_string(to_ms(endings[address_of(one_byte)].at - start)));
    expect_server_still_serves();
}

// After the handshake, a DATA frame of 1000 bytes trickled one byte every 50 ms (twice per ping
// interval), forever: a partial frame is not proof of life, so the silence budget ends it with a
// verdict, and the trickle was still going on when it did.
TEST_F(NativeServerHostile, FrameTrickledForeverEndsWithPeerDeadWithinTheBudget) {
    auto& r = connect_raw();
    read_and_discard(r);
    asio::write(r.socket, asio::buffer(hello_bytes()));
    const time_point start = clock::now();
    auto bytes = native_header(frame_type::data, flag_fin, 1000);
    bytes.resize(bytes.size() + 1000, 'x');
    trickle(r, bytes, 50ms);
    const duration budget = silence_budget(cfg.session.heartbeat);

    ASSERT_TRUE(run_until(
        ioc, [&] { return r.eof && closed(address_of(r)); }, budget + 10s))
        << "a frame trickled forever kept the session alive";
    const std::string a = address_of(r);
    ASSERT_TRUE(endings.count(a));
    EXPECT_EQ(endings[a].reason, error::peer_dead) << error_name(endings[a].reason);
    ASSERT_TRUE(endings[a].dead.has_value());
    EXPECT_GE(endings[a].dead->silence, budget);
    EXPECT_LE(endings[a].dead->silence, budget + 300ms);
    EXPECT_LE(endings[a].at - start, budget + 1s);
    EXPECT_GE(r.bytes_trickled, 8u);
    EXPECT_LT(r.bytes_trickled, bytes.size());
    RecordProperty("trickle_verdict_silence_ms", std::to_string(to_ms(endings[a].dead->silence)));
    expect_server_still_serves();
}

// A peer that streams 64 KiB messages as fast as TCP lets it and never reads the echoes: the
// echo waits (back-pressure), the server's inbox stops at receive_buffer_limit (the reader
// pauses) instead of buffering everything the peer sends, and the session ends with a verdict
// once nothing more is read (the peer never answers a ping).
TEST_F(NativeServerHostile, PeerThatNeverReadsEchoesIsBoundedAndGetsAVerdict) {
    auto& r = connect_raw(64 * 1024);
    asio::write(r.socket, asio::buffer(hello_bytes()));
    const std::string payload(64 * 1024, 'm');
    std::vector<std::uint8_t> message = native_header(frame_type::data, flag_fin, 64 * 1024);
    message.insert(message.end(), payload.begin(), payload.end());
    repeat(r, message, 0ms, 2000); // at most 128 MiB, far beyond every buffer on the way
    const time_point start = clock::now();
    std::size_t max_inbox = 0, max_queued_send = 0;
    const std::string a = address_of(r);
    const bool ended = run_until(
        ioc,
        [&] {
            if (ids.count(a))
                if (auto st = server->peer_stats(ids[a])) {
                    max_inbox = std::max(max_inbox, st->queued_receive_bytes);
                    max_queued_send = std::max(max_queued_send, st->queued_send_bytes);
                }
            return closed(a);
        },
        30s);
    ASSERT_TRUE(ended) << "a peer that never reads kept its session alive";
    const duration took = endings[a].at - start;
    EXPECT_EQ(endings[a].reason, error::peer_dead) << error_name(endings[a].reason);
    // One message over the limit at most is buffered (the limit is checked between reads), and
    // the echo being written is the only message queued to send.
    EXPECT_LE(max_inbox, cfg.session.receive_buffer_limit + 2 * payload.size());
    EXPECT_LE(max_queued_send, payload.size());
    EXPECT_GT(max_queued_send, 0u) << "the echo never waited: the test did not stall the writer";
    EXPECT_LE(took, 10s);
    RecordProperty("never_reader_max_inbox", std::to_string(max_inbox));
    RecordProperty("never_reader_ms", std::to_string(to_ms(took)));
    std::printf("[ figures  ] never-reading echo peer: max inbox %zu B, max send queue %zu B, "
                "ended %s after %.0f ms\n",
                max_inbox, max_queued_send, error_name(endings[a].reason), to_ms(took));
    r.socket.close(); // unblocks the peer's pending write
    r.eof = true;     // this peer never read, so no reader will say so
    expect_server_still_serves();
}

} // namespace
