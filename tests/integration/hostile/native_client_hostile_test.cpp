// A hostile *server* facing our native tcp_session (what the client supervisor runs on each
// connection): a HELLO cut short, a frame trickled forever, length fields up to 2^32-1, and a
// server that never reads what we send — with and without talking to us meanwhile. Each ends
// with a named reason, in bounded time, with our queue bounded by what the application queued
// and no large allocation.
#include "hostile_support.hpp"

#include <gtest/gtest.h>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

// Our session on one end of a loopback connection, a raw socket (the hostile server) on the
// other. `receive_buffer` (when set) shrinks the hostile end's receive buffer, so a peer that
// does not read stalls our writes after a few dozen KiB instead of several MiB.
struct hostile_server {
    asio::io_context& ioc;
    std::unique_ptr<raw_side> raw;
    std::optional<tcp_session> session;
    bool ended = false;
    boost::system::error_code reason;
    time_point ended_at{};
    std::optional<verdict> dead;

    hostile_server(asio::io_context& io, const session_config& cfg, int receive_buffer = 0)
        : ioc(io) {
        tcp::acceptor acceptor(ioc);
        acceptor.open(tcp::v4());
        if (receive_buffer)
            acceptor.set_option(asio::socket_base::receive_buffer_size(receive_buffer));
        acceptor.bind(loopback());
        acceptor.listen();
        tcp::socket ours(ioc);
        ours.connect(acceptor.local_endpoint());
        raw = std::make_unique<raw_side>(acceptor.accept());
        session_callbacks cb;
        cb.on_verdict = [this](const verdict& v) { dead = v; };
        session.emplace(std::move(ours), cfg, cb);
        session->async_run([this](boost::system::error_code ec) {
            reason = ec;
            ended = true;
            ended_at = clock::now();
        });
    }

    ~hostile_server() {
        if (!ended)
            session->close();
        boost::system::error_code ignored;
        raw->socket.close(ignored);
        run_until(
            ioc, [&] { return ended && raw->writer_done; }, 10s);
    }
};

TEST(NativeClientHostile, HelloCutShortEndsAtTheHandshakeDeadline) {
    asio::io_context ioc;
    auto cfg = fast_config(100ms, 200ms, 3);
    cfg.handshake_timeout = 500ms;
    hostile_server h(ioc, cfg);
    read_and_discard(*h.raw);
    const auto hello = hello_bytes();
    asio::write(h.raw->socket, asio::buffer(hello.data(), 1));
    const time_point start = clock::now();
    ASSERT_TRUE(run_until(
        ioc, [&] { return h.ended; }, 10s));
    EXPECT_EQ(h.reason, error::handshake_timeout) << error_name(h.reason);
    EXPECT_GE(h.ended_at - start, 450ms);
    EXPECT_LE(h.ended_at - start, 2s);
    EXPECT_FALSE(h.dead.has_value());
}

TEST(NativeClientHostile, FrameTrickledForeverEndsWithPeerDeadWithinTheBudget) {
    asio::io_context ioc;
    const auto cfg = fast_config(100ms, 200ms, 3);
    const duration budget = silence_budget(cfg.heartbeat);
    hostile_server h(ioc, cfg);
    read_and_discard(*h.raw);
    asio::write(h.raw->socket, asio::buffer(hello_bytes()));
    auto bytes = native_header(frame_type::data, flag_fin, 1000);
    bytes.resize(bytes.size() + 1000, 'x');
    trickle(*h.raw, bytes, 50ms);
    ASSERT_TRUE(run_until(
        ioc, [&] { return h.ended; }, budget + 10s))
        << "a frame trickled forever kept our session alive";
    EXPECT_EQ(h.reason, error::peer_dead) << error_name(h.reason);
    ASSERT_TRUE(h.dead.has_value());
    EXPECT_GE(h.dead->silence, budget);
    EXPECT_LE(h.dead->silence, budget + 300ms);
    EXPECT_GE(h.raw->bytes_trickled, 8u);
}

// A server whose HELLO floor, or a later SLOW_DOWN, would slow our pings beyond
// max_negotiated_interval (default 4 x interval) would stretch our detection budget with it:
// the session ends at once with incompatible_interval. A SLOW_DOWN within the cap is obeyed.
TEST(NativeClientHostile, HelloFloorBeyondOurCapIsRefused) {
    asio::io_context ioc;
    const auto cfg = fast_config(100ms, 200ms, 3); // cap 400 ms
    hostile_server h(ioc, cfg);
    read_and_discard(*h.raw);
    hello_frame hello;
    hello.min_interval_ms = 3'600'000; // one ping an hour
    asio::write(h.raw->socket, asio::buffer(frame_bytes(hello)));
    ASSERT_TRUE(run_until(
        ioc, [&] { return h.ended; }, 10s));
    EXPECT_EQ(h.reason, error::incompatible_interval) << error_name(h.reason);
    EXPECT_FALSE(h.dead.has_value());
}

TEST(NativeClientHostile, SlowDownBeyondOurCapIsRefusedWithinItObeyed) {
    for (const std::uint32_t asked_ms : {300u, 60'000u}) {
        asio::io_context ioc;
        auto cfg = fast_config(100ms, 200ms, 3); // cap 400 ms
        hostile_server h(ioc, cfg);
        read_and_discard(*h.raw);
        asio::write(h.raw->socket, asio::buffer(hello_bytes()));
        asio::write(h.raw->socket, asio::buffer(frame_bytes(slow_down_frame{asked_ms})));
        run_until(
            ioc, [&] { return h.ended; }, 1500ms);
        if (asked_ms == 300u) {
            // Accepted: not refused. (The session may end with peer_dead meanwhile: this
            // server never answers a ping.)
            EXPECT_NE(h.reason, error::incompatible_interval);
            if (h.ended)
                EXPECT_EQ(h.reason, error::peer_dead) << error_name(h.reason);
        } else {
            ASSERT_TRUE(h.ended) << "a SLOW_DOWN to one ping a minute was obeyed";
            EXPECT_EQ(h.reason, error::incompatible_interval) << error_name(h.reason);
        }
    }
}

struct length_case {
    const char* what;
    std::vector<std::uint8_t> bytes; // sent at once, after which the hostile server holds
    error expected;
};

// Every oversize or inconsistent length a server can send: a named error at once, and the
// process's peak resident size grows by far less than any of the lengths claimed.
TEST(NativeClientHostile, ExtremeLengthFieldsEndWithANamedErrorAndNoLargeAllocation) {
    constexpr std::uint32_t max32 = 0xFFFFFFFFu;
    const auto hello = hello_bytes();
    std::vector<length_case> cases{
        {"HELLO claiming 2^32-1 bytes", native_header(frame_type::hello, 0, max32),
         error::frame_too_large},
        {"DATA claiming 2^32-1 bytes", concat(hello, native_header(frame_type::data, 1, max32)),
         error::frame_too_large},
        {"DATA claiming max_frame_payload+1",
         concat(hello, native_header(frame_type::data, 1, (1u << 20) + 1)), error::frame_too_large},
        {"PING claiming 2^32-1 bytes", concat(hello, native_header(frame_type::ping, 0, max32)),
         error::frame_too_large},
        {"CLOSE claiming 2^31 bytes", concat(hello, native_header(frame_type::close, 0, 1u << 31)),
         error::frame_too_large},
        {"PING of 1 byte", concat(hello, concat(native_header(frame_type::ping, 0, 1), {0})),
         error::malformed_frame},
    };
    // A message reassembled from non-FIN chunks beyond max_message_size (256 KiB here).
    std::vector<std::uint8_t> chunks = hello;
    for (int i = 0; i < 5; ++i) {
        chunks = concat(chunks, native_header(frame_type::data, 0, 64 * 1024));
        chunks.resize(chunks.size() + 64 * 1024, 'c');
    }
    cases.push_back(
        {"5 chunks of 64 KiB, no FIN, max_message_size 256 KiB", chunks, error::message_too_large});

    asio::io_context ioc;
    auto cfg = fast_config(1s, 1s, 3);
    cfg.max_message_size = 256 * 1024;
    ASSERT_TRUE(reset_peak_rss());
    const std::size_t rss_before = rss_kib();
    for (auto& c : cases) {
        hostile_server h(ioc, cfg);
        read_and_discard(*h.raw);
        const time_point start = clock::now();
        asio::write(h.raw->socket, asio::buffer(c.bytes));
        ASSERT_TRUE(run_until(
            ioc, [&] { return h.ended; }, 5s))
            << c.what;
        EXPECT_EQ(h.reason, c.expected) << c.what << ": " << error_name(h.reason);
        std::printf("[ figures  ] native client, %s: %s after %.1f ms\n", c.what,
                    error_name(h.reason), to_ms(h.ended_at - start));
    }
    const std::size_t peak = peak_rss_kib();
    std::printf("[ figures  ] peak RSS growth over the length cases: %zu KiB\n",
                peak > rss_before ? peak - rss_before : 0);
    if (rss_is_meaningful)
        EXPECT_LT(peak, rss_before + 32 * 1024) << "a length field was allocated";
}

// A server that reads nothing and says nothing after its HELLO, while the application queues
// 16 messages of 256 KiB: the queue holds what the application handed over and no more, the
// sends that did not fit wait (back-pressure) and complete with the verdict, which comes within
// the silence budget.
TEST(NativeClientHostile, SilentServerThatNeverReadsBoundsTheQueueAndGetsAVerdict) {
    asio::io_context ioc;
    const auto cfg = fast_config(100ms, 200ms, 3);
    const duration budget = silence_budget(cfg.heartbeat);
    hostile_server h(ioc, cfg, 16 * 1024);
    asio::write(h.raw->socket, asio::buffer(hello_bytes()));
    constexpr std::size_t kMessages = 16, kSize = 256 * 1024;
    std::size_t sent = 0, failed = 0, sent_at_verdict = 0;
    boost::system::error_code send_error;
    for (std::size_t i = 0; i < kMessages; ++i)
        h.session->async_send(std::string(kSize, 'q'), [&](boost::system::error_code ec) {
            if (ec) {
                ++failed;
                send_error = ec;
            } else {
                ++sent;
            }
        });
    std::size_t max_queued = 0;
    ASSERT_TRUE(run_until(
        ioc,
        [&] {
            max_queued = std::max(max_queued, h.session->stats().queued_send_bytes);
            if (!h.dead)
                sent_at_verdict = sent;
            return h.ended && sent + failed == kMessages;
        },
        budget + 10s));
    EXPECT_EQ(h.reason, error::peer_dead) << error_name(h.reason);
    ASSERT_TRUE(h.dead.has_value());
    EXPECT_GE(h.dead->silence, budget);
    EXPECT_LE(h.dead->silence, budget + 300ms);
    EXPECT_LE(max_queued, kMessages * kSize);
    EXPECT_LT(sent_at_verdict, kMessages) << "every send completed: no back-pressure seen";
    EXPECT_GT(failed, 0u);
    EXPECT_EQ(send_error, error::peer_dead) << error_name(send_error);
    std::printf("[ figures  ] silent never-reading server: %zu of %zu sends written before the "
                "verdict at %.0f ms of silence, max queued %zu B\n",
                sent_at_verdict, kMessages, to_ms(h.dead->silence), max_queued);
}

// A server that never reads but pings us every 50 ms, while we have 4 MiB to send. Its pings are
// inbound traffic, so with liveness any_inbound they look like life while our writes cannot
// move: our own ping (the RTT probe, one interval in) stays unwritten behind the stuck data, and
// a budget later that is the verdict write_stalled — before the kernel's TCP_USER_TIMEOUT
// (2 x budget) would end it. With liveness pong_only its pings prove nothing and the budget ends
// it (peer_dead).
void server_pinging_but_never_reading(liveness_mode liveness) {
    asio::io_context ioc;
    auto cfg = fast_config(100ms, 200ms, 3);
    cfg.heartbeat.liveness = liveness;
    const duration budget = silence_budget(cfg.heartbeat);
    hostile_server h(ioc, cfg, 16 * 1024);
    asio::write(h.raw->socket, asio::buffer(hello_bytes()));
    repeat(*h.raw, frame_bytes(ping_frame{1, 1}), 50ms, 1000);
    std::size_t done = 0;
    for (int i = 0; i < 16; ++i)
        h.session->async_send(std::string(256 * 1024, 'p'),
                              [&](boost::system::error_code) { ++done; });
    const time_point start = clock::now();
    const bool ended = run_until(
        ioc, [&] { return h.ended; }, 4 * budget + 10s);
    std::printf("[ figures  ] server pinging every 50 ms, never reading, liveness %s: %s after "
                "%.0f ms (budget %.0f ms)\n",
                liveness == liveness_mode::pong_only ? "pong_only" : "any_inbound",
                ended ? error_name(h.reason) : "still running", to_ms(clock::now() - start),
                to_ms(budget));
    ASSERT_TRUE(ended) << "a server that talks but never reads kept our session alive";
    if (liveness == liveness_mode::any_inbound) {
        EXPECT_EQ(h.reason, error::write_stalled) << error_name(h.reason);
        ASSERT_TRUE(h.dead.has_value());
        EXPECT_EQ(h.dead->reason, error::write_stalled);
        // The first unwritten ping is requested about one interval in; its stall runs a budget.
        const duration interval = cfg.heartbeat.interval;
        EXPECT_GE(h.ended_at - start, budget);
        EXPECT_LE(h.ended_at - start, interval + budget + 1s);
        EXPECT_LT(h.dead->silence, 300ms) << "the peer was talking until the verdict";
    } else {
        EXPECT_LE(h.ended_at - start, 2 * budget + 2s);
        EXPECT_EQ(h.reason, error::peer_dead) << error_name(h.reason);
        ASSERT_TRUE(h.dead.has_value());
        EXPECT_LE(h.dead->silence, budget + 300ms);
    }
}

TEST(NativeClientHostile, ServerPingingButNeverReadingEndsAnyInbound) {
    server_pinging_but_never_reading(liveness_mode::any_inbound);
}

TEST(NativeClientHostile, ServerPingingButNeverReadingEndsPongOnly) {
    server_pinging_but_never_reading(liveness_mode::pong_only);
}

} // namespace

namespace {

// A server flooding us with pings (5000, one every 200 us). Unpoliced (the default on a client),
// every ping is answered and the session stays up; with min_peer_ping_interval set, the flood
// gets max_ping_strikes SLOW_DOWNs, then too_many_pings, as a server's sessions do.
struct flood_outcome {
    bool ended = false;
    boost::system::error_code reason;
    std::size_t pongs = 0, slow_downs = 0;
    bool close_after_slow_downs = false;
};

flood_outcome flood_pings_at_client(duration min_interval) {
    asio::io_context ioc;
    auto cfg = fast_config(100ms, 200ms, 3);
    cfg.min_peer_ping_interval = min_interval;
    std::vector<seen_frame> frames; // before h: its destructor still runs the reader below
    bool reader_done = false;
    hostile_server h(ioc, cfg);
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            co_await read_raw_frames(h.raw->socket, frames, [](const frame&) {});
            reader_done = true;
        },
        asio::detached);
    asio::write(h.raw->socket, asio::buffer(hello_bytes()));
    repeat(*h.raw, frame_bytes(ping_frame{1, 1}), 200us, 5000);
    run_until(
        ioc, [&] { return h.ended || h.raw->writer_done; }, 30s);
    flood_outcome out;
    out.ended = h.ended;
    out.reason = h.reason;
    if (!h.ended) { // the whole flood answered? (pongs may still be on their way)
        run_until(
            ioc, [&] { return count_frames(frames, frame_type::pong) >= 5000; }, 5s);
    } else {
        run_until(
            ioc, [&] { return reader_done; }, 5s);
    }
    out.pongs = count_frames(frames, frame_type::pong);
    out.slow_downs = count_frames(frames, frame_type::slow_down);
    const seen_frame* close = find_close(frames);
    out.close_after_slow_downs = close && out.slow_downs > 0;
    h.raw->eof = true; // stops the flood if it still runs
    return out;
}

TEST(NativeClientHostile, PingFloodFromAServerIsAnsweredOrPoliced) {
    const auto unpoliced = flood_pings_at_client(duration::zero());
    std::printf("[ figures  ] server flooding 5000 pings, client unpoliced: %s, %zu pongs\n",
                unpoliced.ended ? error_name(unpoliced.reason) : "still up", unpoliced.pongs);
    EXPECT_FALSE(unpoliced.ended) << error_name(unpoliced.reason);
    EXPECT_EQ(unpoliced.pongs, 5000u);

    const auto policed = flood_pings_at_client(100ms);
    std::printf("[ figures  ] server flooding pings, client min_peer_ping_interval 100 ms: %s "
                "after %zu SLOW_DOWN\n",
                policed.ended ? error_name(policed.reason) : "still up", policed.slow_downs);
    ASSERT_TRUE(policed.ended);
    EXPECT_EQ(policed.reason, error::too_many_pings) << error_name(policed.reason);
    EXPECT_EQ(policed.slow_downs, session_config{}.max_ping_strikes);
    EXPECT_TRUE(policed.close_after_slow_downs);
}

} // namespace
