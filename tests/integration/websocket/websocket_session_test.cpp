// WebSocket sessions in process: our client session against our websocket_server (echo of text
// and binary messages from 1 byte to 8 MiB, RTT samples, pings between the frames of a large
// message), frozen peers (an io_context thread blocked) declared dead within the silence budget
// window, unsolicited pongs, the application-level heartbeat, TLS, and the server's HTTP pages.
#include "test_support.hpp" // self-signed certificate for the TLS test
#include "websocket_test_support.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>

using namespace heartbeat;
using namespace heartbeat::wstest;

namespace {

struct run_result {
    bool ended = false;
    boost::system::error_code reason;
    time_point at{};
};

template <class Session>
void start(Session& s, run_result& r) {
    s.async_run([&r](boost::system::error_code ec) {
        r.ended = true;
        r.reason = ec;
        r.at = clock::now();
    });
}

// Deterministic payloads: text is printable ASCII (valid UTF-8), binary covers every byte value.
std::string make_payload(std::size_t n, websocket_message_kind kind, unsigned seed) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i) {
        const unsigned v = static_cast<unsigned>(i * 131u + seed * 7u + (i >> 9));
        s[i] = kind == websocket_message_kind::text ? static_cast<char>('!' + v % 94)
                                                    : static_cast<char>(v & 0xFF);
    }
    return s;
}

} // namespace

TEST(WebSocketSession, EchoesTextAndBinaryFrom1ByteTo8MiBWithRttSamples) {
    io_thread server_io;
    websocket_server_config scfg;
    scfg.session = fast_ws_config(50ms, 1000ms, 3);
    websocket_server server(server_io.context(), loopback(), scfg);
    server.async_run(asio::detached);

    asio::io_context ioc;
    int rtt_samples = 0;
    session_callbacks cb;
    cb.on_rtt = [&](duration, const rtt_estimator&) { ++rtt_samples; };
    ws_session client(ws_connect(ioc.get_executor(), server.local_endpoint().port()),
                      fast_ws_config(20ms, 1000ms, 3), cb);
    run_result run;
    start(client, run);

    const std::vector<std::size_t> sizes{
        1, 2, 125, 126, 127, 4096, 65535, 65536, 65537, 200000, 1u << 20, (1u << 20) + 1, 8u << 20};
    int checked = 0;
    std::string failure;
    bool done = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            unsigned seed = 1;
            for (auto kind : {websocket_message_kind::binary, websocket_message_kind::text}) {
                for (std::size_t n : sizes) {
                    const std::string payload = make_payload(n, kind, seed++);
                    auto [sec] = co_await client.async_send(payload, kind,
                                                            asio::as_tuple(asio::use_awaitable));
                    if (sec) {
                        failure = "send: " + sec.message();
                        co_return;
                    }
                    auto [rec, m] =
                        co_await client.async_receive(asio::as_tuple(asio::use_awaitable));
                    if (rec) {
                        failure = "receive: " + rec.message();
                        co_return;
                    }
                    if (m.kind != kind || m.payload != payload) {
                        failure = "echo of " + std::to_string(n) + " " + to_string(kind) +
                                  " bytes came back as " + std::to_string(m.payload.size()) + " " +
                                  to_string(m.kind) + " bytes, different";
                        co_return;
                    }
                    ++checked;
                }
            }
            // One more with async_send_text, and the default (binary) overload.
            co_await client.async_send_text("héllo", asio::use_awaitable);
            auto m1 = co_await client.async_receive(asio::use_awaitable);
            co_await client.async_send(std::string("\x00\x01\xff", 3), asio::use_awaitable);
            auto m2 = co_await client.async_receive(asio::use_awaitable);
            if (!m1.text() || m1.payload != "héllo" || m2.text() || m2.payload.size() != 3)
                failure = "async_send_text / async_send default kind";
            done = true;
        },
        [&](std::exception_ptr ep) {
            if (ep)
                failure = "exception";
            done = true;
        });
    ASSERT_TRUE(run_until(
        ioc, [&] { return done; }, 120s));
    EXPECT_EQ(failure, "");
    EXPECT_EQ(checked, static_cast<int>(2 * sizes.size()));
    ASSERT_TRUE(run_until(
        ioc, [&] { return rtt_samples >= 3; }, 10s))
        << rtt_samples;
    const auto st = client.stats();
    std::printf("[ws-echo] messages=%d rtt_samples=%llu srtt_us=%.1f p99_us=%.1f frames_sent=%llu "
                "bytes_sent=%llu\n",
                checked, static_cast<unsigned long long>(st.rtt.samples), ms(st.rtt.srtt) * 1000,
                ms(st.rtt.p99) * 1000, static_cast<unsigned long long>(st.frames_sent),
                static_cast<unsigned long long>(st.bytes_sent));
    EXPECT_EQ(st.state, peer_state::alive);
    EXPECT_EQ(st.messages_received, static_cast<std::uint64_t>(checked + 2));
    EXPECT_GE(st.frames_sent, st.messages_sent + 2 * (8u << 20) / (64u * 1024) - 2)
        << "large messages go out as 64 KiB frames";

    client.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.ended; }, 5s));
    EXPECT_EQ(run.reason, error::session_closed) << run.reason.message();
    ASSERT_TRUE(wait_until([&] { return server.stats().ended == 1; }, 5s));
    EXPECT_EQ(server.stats().endings["peer_closed"], 1u);
}

TEST(WebSocketSession, PingsGoOutBetweenTheFramesOfALargeMessage) {
    io_thread server_io;
    websocket_server_config scfg;
    scfg.session.max_message_size = 128u << 20;
    server_callbacks scb;
    scb.on_message = [](const peer_info&, received_message) {}; // swallow, no echo
    websocket_server server(server_io.context(), loopback(), scfg, scb);
    server.async_run(asio::detached);

    asio::io_context ioc;
    std::vector<std::pair<time_point, duration>> samples;
    session_callbacks cb;
    cb.on_rtt = [&](duration rtt, const rtt_estimator&) {
        samples.emplace_back(clock::now(), rtt);
    };
    ws_session client(ws_connect(ioc.get_executor(), server.local_endpoint().port()),
                      fast_ws_config(5ms, 1000ms, 3), cb);
    run_result run;
    start(client, run);
    ASSERT_TRUE(run_until(
        ioc, [&] { return !samples.empty(); }, 5s));

    const std::size_t big = 48u << 20;
    bool sent = false;
    time_point begin = clock::now(), end{};
    const auto pings_before = client.stats().heartbeat.pings_sent;
    const std::size_t samples_before = samples.size();
    client.async_send(std::string(big, 'x'), [&](boost::system::error_code ec) {
        EXPECT_FALSE(ec) << ec.message();
        sent = true;
        end = clock::now();
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return sent; }, 60s));
    const auto pings_during = client.stats().heartbeat.pings_sent - pings_before;
    duration worst{};
    std::size_t during = 0;
    for (std::size_t i = samples_before; i < samples.size(); ++i)
        if (samples[i].first <= end) {
            ++during;
            worst = std::max(worst, samples[i].second);
        }
    std::printf("[ws-large] %zu MiB in %.1f ms: pings_written=%llu rtt_samples_during=%zu "
                "worst_rtt_ms=%.3f\n",
                big >> 20, ms(end - begin), static_cast<unsigned long long>(pings_during), during,
                ms(worst));
    // Without fragmentation the first pong could only come back after the whole message. With
    // it, pings leave between frames; what delays their pongs is only the data already queued
    // in the kernel's socket buffers ahead of them (several MiB on loopback).
    EXPECT_GE(during, 2u) << "pongs must come back while the message is still being written";
    EXPECT_LT(worst, (end - begin) / 2);
    client.cancel();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.ended; }, 5s));
    EXPECT_EQ(run.reason, asio::error::operation_aborted);
    EXPECT_TRUE(wait_until([&] { return server.stats().ended == 1; }, 10s));
}

TEST(WebSocketSession, FrozenServerIsDeclaredDeadWithinTheBudgetWindow) {
    io_thread server_io;
    websocket_server server(server_io.context(), loopback());
    server.async_run(asio::detached);

    asio::io_context ioc;
    std::optional<verdict> dead;
    int rtt_samples = 0;
    session_callbacks cb;
    cb.on_verdict = [&](const verdict& v) { dead = v; };
    cb.on_rtt = [&](duration, const rtt_estimator&) { ++rtt_samples; };
    auto cfg = fast_ws_config(200ms, 200ms, 3);
    cfg.close_timeout = 2s;
    const duration budget = silence_budget(cfg.heartbeat);
    ws_session client(ws_connect(ioc.get_executor(), server.local_endpoint().port()), cfg, cb);
    run_result run;
    start(client, run);
    ASSERT_TRUE(run_until(
        ioc, [&] { return rtt_samples >= 2; }, 5s));

    server_io.block(); // the server process's event loop stops: no more pongs
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.ended; }, budget + 3s));
    server_io.unblock();
    EXPECT_EQ(run.reason, error::peer_dead) << run.reason.message();
    ASSERT_TRUE(dead.has_value());
    expect_in_window(*dead, budget, "in-process frozen server");
    EXPECT_EQ(dead->missed, 3u);
    // The close frame (1011) goes out at once; no wait for a reply a dead peer won't send.
    std::printf("[ws-verdict] async_run completed %.3f ms after the verdict\n",
                ms(run.at - dead->at));
    EXPECT_LT(run.at - dead->at, 500ms);
    // Thawed, the server reads our close frame.
    ASSERT_TRUE(wait_until([&] { return server.stats().ended == 1; }, 5s));
    EXPECT_EQ(server.stats().endings["peer_closed"], 1u);
}

TEST(WebSocketSession, ServerDeclaresAFrozenClientDeadAndKeepsTheOthers) {
    verdict_log log; // outlives the threads whose callbacks use it
    io_thread server_io;
    websocket_server_config scfg;
    scfg.session = fast_ws_config(100ms, 100ms, 2);
    const duration budget = silence_budget(scfg.session.heartbeat);
    websocket_server server(server_io.context(), loopback(), scfg, log.callbacks());
    server.async_run(asio::detached);
    const auto port = server.local_endpoint().port();

    // Client 1 runs on its own thread (to be frozen); client 2 on this one.
    io_thread client1_io;
    ws_session client1(ws_connect(client1_io.context().get_executor(), port),
                       fast_ws_config(1000ms, 1000ms, 3));
    run_result run1;
    asio::post(client1_io.context(), [&] { start(client1, run1); });
    ASSERT_TRUE(wait_until([&] { return log.connected_count() == 1; }, 5s));
    asio::io_context ioc;
    ws_session client2(ws_connect(ioc.get_executor(), port), fast_ws_config(1000ms, 1000ms, 3));
    run_result run2;
    start(client2, run2);
    ASSERT_TRUE(run_until(
        ioc, [&] { return log.rtt_count(1) >= 2 && log.rtt_count(2) >= 2; }, 5s));

    client1_io.block();
    ASSERT_TRUE(run_until(
        ioc, [&] { return log.verdict_of(1).has_value(); }, budget + 3s));
    const int rtt2_at_verdict = log.rtt_count(2);
    run_until(
        ioc, [] { return false; }, 400ms);
    client1_io.unblock();
    expect_in_window(*log.verdict_of(1), budget, "in-process frozen client (server side)");
    EXPECT_FALSE(log.verdict_of(2).has_value());
    EXPECT_GE(log.rtt_count(2), rtt2_at_verdict + 2) << "the other client keeps its heartbeats";
    EXPECT_FALSE(run2.ended);
    ASSERT_TRUE(wait_until([&] { return log.closed_reason(1).has_value(); }, 5s));
    EXPECT_EQ(*log.closed_reason(1), error::peer_dead);
    // The thawed client reads the server's close frame.
    ASSERT_TRUE(wait_until([&] { return run1.ended; }, 5s));
    EXPECT_EQ(run1.reason, error::peer_closed) << run1.reason.message();
    client2.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run2.ended; }, 5s));
    EXPECT_EQ(run2.reason, error::session_closed);
    EXPECT_TRUE(wait_until([&] { return server.stats().active == 0; }, 5s));
}

// A peer that never reads (so never answers our pings) but sends unsolicited pongs, some with
// a payload shaped like ours: traffic, not answers, and never a protocol error.
TEST(WebSocketSession, UnsolicitedPongsAreTrafficButNotAnswers) {
    for (const auto liveness : {liveness_mode::any_inbound, liveness_mode::pong_only}) {
        SCOPED_TRACE(liveness == liveness_mode::any_inbound ? "any_inbound" : "pong_only");
        verdict_log log;
        io_thread server_io;
        websocket_server_config scfg;
        scfg.session = fast_ws_config(100ms, 100ms, 2);
        scfg.session.heartbeat.liveness = liveness;
        const duration budget = silence_budget(scfg.session.heartbeat);
        websocket_server server(server_io.context(), loopback(), scfg, log.callbacks());
        server.async_run(asio::detached);

        asio::io_context ioc;
        auto raw = ws_connect(ioc.get_executor(), server.local_endpoint().port());
        bool stop = false;
        int sent = 0;
        asio::co_spawn(
            ioc,
            [&]() -> asio::awaitable<void> {
                asio::steady_timer t(ioc);
                while (!stop) {
                    // Alternate: empty, text, and 16 bytes like a real answer with a wrong time.
                    const std::string payloads[] = {std::string(), std::string("unsolicited"),
                                                    detail::encode_ws_ping(1, 12345)};
                    const auto& p = payloads[sent % 3];
                    co_await raw.async_pong(websocket::ping_data(p.data(), p.size()),
                                            asio::use_awaitable);
                    ++sent;
                    t.expires_after(40ms);
                    co_await t.async_wait(asio::use_awaitable);
                }
            },
            [](std::exception_ptr) {});
        ASSERT_TRUE(wait_until([&] { return log.connected_count() == 1; }, 5s));
        if (liveness == liveness_mode::any_inbound) {
            run_until(
                ioc, [] { return false; }, 3 * budget);
            EXPECT_FALSE(log.verdict_of(1).has_value()) << "unsolicited pongs are proof of life";
            EXPECT_FALSE(log.closed_reason(1).has_value()) << "and never a protocol error";
            EXPECT_EQ(log.rtt_count(1), 0) << "but never answers";
            const auto st = server.peer_stats(1);
            ASSERT_TRUE(st.has_value());
            EXPECT_EQ(st->heartbeat.pongs_received, 0u);
            EXPECT_EQ(st->state, peer_state::alive);
        } else {
            ASSERT_TRUE(run_until(
                ioc, [&] { return log.verdict_of(1).has_value(); }, budget + 3s));
            expect_in_window(*log.verdict_of(1), budget, "pong_only, unsolicited pongs only");
            EXPECT_EQ(log.rtt_count(1), 0);
        }
        EXPECT_GE(sent, 5);
        stop = true;
        run_until(
            ioc, [] { return false; }, 100ms);
        boost::system::error_code ignored;
        beast::get_lowest_layer(raw).close(ignored);
        EXPECT_TRUE(run_until(
            ioc, [&] { return server.stats().active == 0; }, 5s));
    }
}

// The application-level heartbeat: {"hb":"ping",...} text messages that the application on the
// other side echoes (any echo does) or answers with {"hb":"pong",...} (a session with the app
// heartbeat enabled does). A server whose transport answers control pings but whose
// application does not answer is declared dead by the app heartbeat only.
TEST(WebSocketSession, ApplicationHeartbeatMeasuresTheApplicationNotTheTransport) {
    verdict_log answering_log; // outlive the threads whose callbacks use them
    std::atomic<int> app_messages{0};
    io_thread echo_io;
    websocket_server echo_server(echo_io.context(), loopback()); // echoes
    echo_server.async_run(asio::detached);

    io_thread answering_io;
    websocket_server_config answering_cfg;
    answering_cfg.session.app_heartbeat.enabled = true; // answers with the pong form
    answering_cfg.session.heartbeat.interval = 10s;
    server_callbacks answering_cb = answering_log.callbacks();
    answering_cb.on_message = [&](const peer_info&, received_message) { ++app_messages; };
    websocket_server answering_server(answering_io.context(), loopback(), answering_cfg,
                                      answering_cb);
    answering_server.async_run(asio::detached);

    io_thread wedged_io; // its application never answers: no echo, no app heartbeat
    server_callbacks wedged_cb;
    wedged_cb.on_message = [](const peer_info&, received_message) {};
    websocket_server wedged_server(wedged_io.context(), loopback(), {}, wedged_cb);
    wedged_server.async_run(asio::detached);

    asio::io_context ioc;
    auto app_cfg = fast_ws_config(100ms, 100ms, 2);
    app_cfg.app_heartbeat.enabled = true;
    app_cfg.heartbeat.liveness = liveness_mode::pong_only;
    const duration budget = silence_budget(app_cfg.heartbeat);

    struct client {
        std::unique_ptr<ws_session> session;
        run_result run;
        int rtts = 0;
        std::optional<verdict> dead;
        int received = 0;
    };
    auto make = [&](unsigned short port, const websocket_session_config& cfg) {
        auto c = std::make_unique<client>();
        session_callbacks cb;
        cb.on_rtt = [p = c.get()](duration, const rtt_estimator&) { ++p->rtts; };
        cb.on_verdict = [p = c.get()](const verdict& v) { p->dead = v; };
        c->session = std::make_unique<ws_session>(ws_connect(ioc.get_executor(), port), cfg, cb);
        start(*c->session, c->run);
        asio::co_spawn(
            ioc,
            [p = c.get()]() -> asio::awaitable<void> {
                for (;;) {
                    auto [ec, m] =
                        co_await p->session->async_receive(asio::as_tuple(asio::use_awaitable));
                    if (ec)
                        co_return;
                    ++p->received;
                }
            },
            asio::detached);
        return c;
    };
    auto to_echo = make(echo_server.local_endpoint().port(), app_cfg);
    auto to_answering = make(answering_server.local_endpoint().port(), app_cfg);
    auto to_wedged_app = make(wedged_server.local_endpoint().port(), app_cfg);
    auto to_wedged_ctrl =
        make(wedged_server.local_endpoint().port(), fast_ws_config(100ms, 100ms, 2));

    ASSERT_TRUE(run_until(
        ioc, [&] { return to_wedged_app->dead.has_value(); }, budget + 3s));
    expect_in_window(*to_wedged_app->dead, budget, "app heartbeat, application not answering");
    EXPECT_EQ(to_wedged_app->rtts, 0);
    run_until(
        ioc,
        [&] { return to_echo->rtts >= 5 && to_answering->rtts >= 5 && to_wedged_ctrl->rtts >= 5; },
        5s);
    EXPECT_GE(to_echo->rtts, 5) << "an echoing application answers app pings";
    EXPECT_GE(to_answering->rtts, 5) << "a session with the app heartbeat answers them";
    EXPECT_GE(to_wedged_ctrl->rtts, 5) << "the wedged server's transport still answers pings";
    EXPECT_FALSE(to_echo->dead || to_answering->dead || to_wedged_ctrl->dead);
    EXPECT_EQ(to_echo->received, 0) << "heartbeat messages are not delivered to the application";
    EXPECT_EQ(to_answering->received, 0);
    EXPECT_EQ(app_messages.load(), 0) << "nor to the answering server's application";
    EXPECT_EQ(to_echo->session->stats().heartbeat.pongs_received,
              static_cast<std::uint64_t>(to_echo->rtts));

    // Application messages still flow next to the heartbeat messages.
    bool echoed = false;
    to_echo->session->async_send_text("{\"hb\":\"not a heartbeat\"}", asio::detached);
    run_until(
        ioc, [&] { return to_echo->received == 1; }, 5s);
    echoed = to_echo->received == 1;
    EXPECT_TRUE(echoed);

    for (auto* c : {to_echo.get(), to_answering.get(), to_wedged_ctrl.get()})
        c->session->close();
    ASSERT_TRUE(run_until(
        ioc,
        [&] {
            return to_echo->run.ended && to_answering->run.ended && to_wedged_ctrl->run.ended &&
                   to_wedged_app->run.ended;
        },
        5s));
    EXPECT_EQ(to_wedged_app->run.reason, error::peer_dead);
    EXPECT_EQ(to_echo->run.reason, error::session_closed);
    EXPECT_TRUE(run_until(
        ioc,
        [&] {
            return echo_server.stats().active + answering_server.stats().active +
                       wedged_server.stats().active ==
                   0;
        },
        5s));
}

TEST(WebSocketSession, TlsEchoRttAndClose) {
    const auto pem = heartbeat::test::make_self_signed_certificate("localhost");
    asio::ssl::context server_ctx(asio::ssl::context::tls_server);
    server_ctx.use_certificate_chain(asio::buffer(pem.certificate));
    server_ctx.use_private_key(asio::buffer(pem.private_key), asio::ssl::context::pem);
    asio::ssl::context client_ctx(asio::ssl::context::tls_client);
    client_ctx.add_certificate_authority(asio::buffer(pem.certificate));
    client_ctx.set_verify_mode(asio::ssl::verify_peer);

    using tls_ws = websocket::stream<asio::ssl::stream<tcp::socket>>;
    io_thread server_io;
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, loopback());
    std::optional<tls_ws> server_ws;
    std::thread accepter([&] {
        tls_ws ws(server_io.context(), server_ctx);
        acceptor.accept(beast::get_lowest_layer(ws));
        ws.next_layer().handshake(asio::ssl::stream_base::server);
        ws.accept();
        server_ws.emplace(std::move(ws));
    });
    tls_ws client_ws(ioc, client_ctx);
    beast::get_lowest_layer(client_ws).connect(acceptor.local_endpoint());
    client_ws.next_layer().set_verify_callback(asio::ssl::host_name_verification("localhost"));
    client_ws.next_layer().handshake(asio::ssl::stream_base::client);
    client_ws.handshake("localhost", "/");
    accepter.join();
    ASSERT_TRUE(server_ws.has_value());

    auto server_cfg = fast_ws_config(50ms, 1000ms, 3);
    server_cfg.heartbeat.liveness = liveness_mode::pong_only; // pings even while data flows
    wss_session server(std::move(*server_ws), server_cfg);
    run_result server_run;
    asio::post(server_io.context(), [&] {
        start(server, server_run);
        asio::co_spawn(
            server_io.context(),
            [&]() -> asio::awaitable<void> {
                for (;;) {
                    auto [ec, m] =
                        co_await server.async_receive(asio::as_tuple(asio::use_awaitable));
                    if (ec)
                        co_return;
                    co_await server.async_send(std::move(m.payload), m.kind,
                                               asio::as_tuple(asio::use_awaitable));
                }
            },
            asio::detached);
    });

    int rtts = 0;
    session_callbacks cb;
    cb.on_rtt = [&](duration, const rtt_estimator&) { ++rtts; };
    wss_session client(std::move(client_ws), fast_ws_config(20ms, 1000ms, 3), cb);
    run_result run;
    start(client, run);
    std::string got;
    bool text = false;
    const std::string big = make_payload(3u << 20, websocket_message_kind::binary, 9);
    bool big_ok = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            co_await client.async_send_text("over tls", asio::use_awaitable);
            auto m = co_await client.async_receive(asio::use_awaitable);
            got = m.payload;
            text = m.text();
            co_await client.async_send(big, asio::use_awaitable);
            auto b = co_await client.async_receive(asio::use_awaitable);
            big_ok = b.payload == big && !b.text();
        },
        asio::detached);
    ASSERT_TRUE(run_until(
        ioc, [&] { return big_ok && rtts >= 3; }, 20s))
        << "got=" << got << " rtts=" << rtts;
    EXPECT_EQ(got, "over tls");
    EXPECT_TRUE(text);
    client.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.ended; }, 5s));
    EXPECT_EQ(run.reason, error::session_closed) << run.reason.message();
    ASSERT_TRUE(wait_until([&] { return server_run.ended; }, 5s));
    EXPECT_EQ(server_run.reason, error::peer_closed) << server_run.reason.message();
    EXPECT_GE(server.stats().rtt.samples, 1u);
}

// Back-pressure: a receiver that does not consume stops reading at receive_buffer_limit (the
// sender's messages wait in the socket buffers), then, once the application consumes, resumes and
// delivers every message, in order and intact.
TEST(WebSocketSession, ReaderPausesAtTheReceiveBufferLimitAndResumesWithoutLoss) {
    asio::io_context ioc;
    auto ends = upgrade_pair(ioc);
    ASSERT_TRUE(ends.upgraded);

    constexpr std::size_t limit = 4096, message_size = 1024, messages = 3000;
    auto receiver_cfg = fast_ws_config(100ms, 1000ms, 5);
    receiver_cfg.receive_buffer_limit = limit;
    ws_session sender(std::move(ends.server), fast_ws_config(100ms, 1000ms, 5));
    ws_session receiver(std::move(ends.client), receiver_cfg);
    run_result sender_run, receiver_run;
    start(sender, sender_run);
    start(receiver, receiver_run);
    std::size_t sent = 0;
    for (std::size_t i = 0; i < messages; ++i) {
        sender.async_send(
            make_payload(message_size, websocket_message_kind::binary, static_cast<unsigned>(i)),
            [&](boost::system::error_code ec) { sent += ec ? 0 : 1; });
    }
    // Nobody receives: the receiver's queue fills up to the limit (plus the message that
    // crossed it) and stays there.
    std::size_t most_queued = 0;
    run_until(
        ioc,
        [&] {
            most_queued = std::max<std::size_t>(most_queued, receiver.stats().queued_receive_bytes);
            return false;
        },
        300ms);
    EXPECT_GT(most_queued, limit);
    EXPECT_LE(most_queued, limit + message_size);

    std::size_t received = 0, intact = 0;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (std::size_t i = 0; i < messages; ++i) {
                auto [ec, m] = co_await receiver.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec)
                    co_return;
                ++received;
                most_queued =
                    std::max<std::size_t>(most_queued, receiver.stats().queued_receive_bytes);
                if (m.payload == make_payload(message_size, websocket_message_kind::binary,
                                              static_cast<unsigned>(i)) &&
                    m.seq == i + 1)
                    ++intact;
            }
        },
        asio::detached);
    ASSERT_TRUE(run_until(
        ioc, [&] { return received == messages; }, 30s))
        << "received " << received << " of " << messages << ", sent " << sent;
    EXPECT_EQ(intact, messages);
    EXPECT_EQ(sent, messages);
    EXPECT_LE(most_queued, limit + message_size);
    EXPECT_FALSE(receiver_run.ended) << receiver_run.reason.message();
    receiver.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return sender_run.ended && receiver_run.ended; }, 5s));
    EXPECT_EQ(receiver_run.reason, error::session_closed);
}

TEST(WebSocketSession, InvalidConfigIsReportedByAsyncRun) {
    io_thread server_io;
    websocket_server server(server_io.context(), loopback());
    server.async_run(asio::detached);
    asio::io_context ioc;
    auto cfg = fast_ws_config(100ms, 100ms, 2);
    cfg.app_heartbeat.key = "has \"quotes\"";
    ASSERT_TRUE(validate(cfg).has_value());
    EXPECT_EQ(validate(cfg)->field, "websocket_session_config.app_heartbeat.key");
    ws_session client(ws_connect(ioc.get_executor(), server.local_endpoint().port()), cfg);
    run_result run;
    start(client, run);
    ASSERT_TRUE(run_until(
        ioc, [&] { return run.ended; }, 5s));
    EXPECT_EQ(run.reason, error::invalid_config);
    boost::system::error_code ignored;
    beast::get_lowest_layer(client.stream()).close(ignored);
    EXPECT_TRUE(wait_until([&] { return server.stats().active == 0; }, 5s));
}

TEST(WebSocketSession, AppHeartbeatWireFormat) {
    const auto text = detail::encode_app_heartbeat("hb", {true, 42, 1234567});
    EXPECT_EQ(text, "{\"hb\":\"ping\",\"seq\":42,\"t\":1234567}");
    auto parsed = detail::parse_app_heartbeat("hb", text);
    ASSERT_TRUE(parsed.has_value());
    EXPECT_TRUE(parsed->ping);
    EXPECT_EQ(parsed->seq, 42u);
    EXPECT_EQ(parsed->send_time_us, 1234567u);
    EXPECT_FALSE(detail::parse_app_heartbeat("hb", text + " "));
    EXPECT_FALSE(detail::parse_app_heartbeat("other", text));
    EXPECT_FALSE(detail::parse_app_heartbeat("hb", "{\"hb\":\"ping\",\"seq\":-1,\"t\":1}"));
    EXPECT_FALSE(detail::parse_app_heartbeat(
        "hb", "{\"hb\":\"ping\",\"seq\":99999999999999999999999,\"t\":1}"));
    std::uint64_t seq = 0, t = 0;
    EXPECT_TRUE(detail::decode_ws_ping(detail::encode_ws_ping(0x0102030405060708ull, 77), seq, t));
    EXPECT_EQ(seq, 0x0102030405060708ull);
    EXPECT_EQ(t, 77u);
    EXPECT_EQ(detail::encode_ws_ping(1, 2).substr(0, 8), std::string("\0\0\0\0\0\0\0\1", 8));
    EXPECT_FALSE(detail::decode_ws_ping("short", seq, t));
}

TEST(WebSocketServer, ServesHttpPagesBeforeTheUpgrade) {
    io_thread server_io;
    websocket_server_config scfg;
    scfg.http_pages["/"] = http_page{"text/html; charset=utf-8", "<!doctype html><p>hi</p>"};
    websocket_server server(server_io.context(), loopback(), scfg);
    server.async_run(asio::detached);
    const auto get = [&](const std::string& target) {
        asio::io_context ioc;
        tcp::socket s(ioc);
        s.connect(server.local_endpoint());
        const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
        asio::write(s, asio::buffer(req));
        std::string out;
        boost::system::error_code ec;
        asio::read(s, asio::dynamic_buffer(out), ec);
        return out;
    };
    const auto page = get("/");
    EXPECT_NE(page.find("HTTP/1.1 200 OK"), std::string::npos) << page;
    EXPECT_NE(page.find("Content-Type: text/html; charset=utf-8"), std::string::npos) << page;
    EXPECT_NE(page.find("<!doctype html><p>hi</p>"), std::string::npos) << page;
    const auto missing = get("/nope");
    EXPECT_NE(missing.find("HTTP/1.1 404 Not Found"), std::string::npos) << missing;
    EXPECT_EQ(server.stats().accepted, 0u) << "plain HTTP requests are not peers";
}
