// The native protocol over the other stock transports: Unix domain sockets (socket path in a fresh
// temp dir) and TLS (a self-signed certificate generated at runtime, the handshake done by the test
// before the sessions are built). Each: echo of small and chunked messages, RTT samples, and a
// clean close (session_closed on the closing side, peer_closed on the other).
#include "test_support.hpp"

#include <heartbeat/server/server.hpp>

#include <gtest/gtest.h>

#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl.hpp>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

using unix_socket = asio::local::stream_protocol::socket;
using tls_stream = asio::ssl::stream<tcp::socket>;

template <class Session>
asio::awaitable<void> echo(Session& s) {
    for (;;) {
        auto [ec, msg] = co_await s.async_receive(asio::as_tuple(asio::use_awaitable));
        if (ec)
            co_return;
        auto [sec] = co_await s.async_send(std::move(msg), asio::as_tuple(asio::use_awaitable));
        if (sec)
            co_return;
    }
}

std::string pattern(std::size_t n, char salt) {
    std::string s(n, '\0');
    for (std::size_t i = 0; i < n; ++i)
        s[i] = static_cast<char>(i * 31 + salt);
    return s;
}

// Echo, RTT and close over a connected (and, for TLS, handshaken) pair of streams.
template <class Stream>
void exercise(asio::io_context& ioc, Stream server_stream, Stream client_stream) {
    using session = basic_session<Stream>;
    session server(std::move(server_stream), fast_config(50ms, 1000ms, 3));
    int rtt_samples = 0;
    session_callbacks cb;
    cb.on_rtt = [&](duration, const rtt_estimator&) { ++rtt_samples; };
    bool dead = false;
    cb.on_verdict = [&](const verdict&) { dead = true; };
    session client(std::move(client_stream), fast_config(50ms, 1000ms, 3), cb);
    bool server_done = false, client_done = false;
    boost::system::error_code server_end, client_end;
    server.async_run([&](boost::system::error_code ec) { server_end = ec, server_done = true; });
    client.async_run([&](boost::system::error_code ec) { client_end = ec, client_done = true; });
    asio::co_spawn(ioc, echo(server), asio::detached);

    const std::vector<std::string> sent = {"hello", pattern(1, 'a'), pattern(64 * 1024 + 1, 'b'),
                                           pattern(1u << 20, 'c'), "bye"};
    std::size_t echoed = 0;
    bool mismatch = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (const auto& m : sent)
                client.async_send(m, asio::detached);
            for (const auto& m : sent) {
                auto [ec, back] =
                    co_await client.async_receive(asio::as_tuple(asio::use_awaitable));
                if (ec || back != m) {
                    mismatch = true;
                    co_return;
                }
                ++echoed;
            }
        },
        asio::detached);
    ASSERT_TRUE(run_until(
        ioc, [&] { return (echoed == sent.size() || mismatch) && rtt_samples >= 5; }, 20s))
        << "echoed " << echoed << ", rtt samples " << rtt_samples;
    EXPECT_FALSE(mismatch) << "message " << echoed << " came back different";
    EXPECT_EQ(echoed, sent.size());
    const auto stats = client.stats();
    EXPECT_EQ(stats.state, peer_state::alive);
    EXPECT_GE(stats.rtt.samples, 5u);
    EXPECT_GT(stats.rtt.srtt, duration::zero());
    EXPECT_LT(stats.rtt.srtt, 1000ms);
    EXPECT_EQ(stats.messages_sent, sent.size());
    EXPECT_EQ(stats.messages_received, sent.size());

    client.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return client_done && server_done; }, 10s));
    EXPECT_EQ(client_end, error::session_closed) << client_end.message();
    EXPECT_EQ(server_end, error::peer_closed) << server_end.message();
    EXPECT_FALSE(dead);
}

} // namespace

TEST(SessionTransports, UnixDomainSocketEchoRttAndCleanClose) {
    temp_dir dir;
    const auto path = (dir.path() / "hb.sock").string();
    asio::io_context ioc;
    asio::local::stream_protocol::acceptor acceptor(ioc,
                                                    asio::local::stream_protocol::endpoint(path));
    unix_socket client(ioc);
    client.connect(asio::local::stream_protocol::endpoint(path));
    unix_socket server = acceptor.accept();
    exercise<unix_socket>(ioc, std::move(server), std::move(client));
}

TEST(SessionTransports, UnixServerServesAUnixSessionClient) {
    temp_dir dir;
    const auto path = (dir.path() / "server.sock").string();
    asio::io_context ioc;
    std::vector<boost::system::error_code> closed;
    server_callbacks scb;
    scb.on_peer_closed = [&](const peer_info&, boost::system::error_code ec) {
        closed.push_back(ec);
    };
    server_config scfg;
    scfg.session = fast_config(50ms, 1000ms, 3);
    unix_server server(ioc, asio::local::stream_protocol::endpoint(path), scfg, scb);
    bool server_done = false;
    server.async_run([&](boost::system::error_code) { server_done = true; });

    unix_socket s(ioc);
    s.connect(asio::local::stream_protocol::endpoint(path));
    int rtt_samples = 0;
    session_callbacks cb;
    cb.on_rtt = [&](duration, const rtt_estimator&) { ++rtt_samples; };
    unix_session client(std::move(s), fast_config(50ms, 1000ms, 3), cb);
    bool client_done = false;
    boost::system::error_code client_end;
    client.async_run([&](boost::system::error_code ec) { client_end = ec, client_done = true; });
    std::string back;
    client.async_send(pattern(200 * 1024, 'u'), asio::detached);
    client.async_receive([&](boost::system::error_code ec, std::string m) {
        if (!ec)
            back = std::move(m);
    });
    ASSERT_TRUE(run_until(
        ioc, [&] { return !back.empty() && rtt_samples >= 3; }, 10s));
    EXPECT_EQ(back, pattern(200 * 1024, 'u'));
    EXPECT_EQ(server.stats().active, 1u);
    client.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return client_done && closed.size() == 1; }, 5s));
    EXPECT_EQ(client_end, error::session_closed);
    EXPECT_EQ(closed.front(), error::peer_closed) << closed.front().message();
    server.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return server_done; }, 5s));
}

TEST(SessionTransports, TlsEchoRttAndCleanClose) {
    const pem_pair pem = make_self_signed_certificate("localhost");
    asio::ssl::context server_ctx(asio::ssl::context::tls_server);
    server_ctx.use_certificate(asio::buffer(pem.certificate), asio::ssl::context::pem);
    server_ctx.use_private_key(asio::buffer(pem.private_key), asio::ssl::context::pem);
    asio::ssl::context client_ctx(asio::ssl::context::tls_client);
    client_ctx.add_certificate_authority(asio::buffer(pem.certificate));
    client_ctx.set_verify_mode(asio::ssl::verify_peer);

    asio::io_context ioc;
    auto [a, b] = tcp_pair(ioc);
    tls_stream server(std::move(a), server_ctx);
    tls_stream client(std::move(b), client_ctx);
    client.set_verify_callback(asio::ssl::host_name_verification("localhost"));
    boost::system::error_code server_hs = asio::error::would_block,
                              client_hs = asio::error::would_block;
    server.async_handshake(asio::ssl::stream_base::server,
                           [&](boost::system::error_code ec) { server_hs = ec; });
    client.async_handshake(asio::ssl::stream_base::client,
                           [&](boost::system::error_code ec) { client_hs = ec; });
    ASSERT_TRUE(run_until(
        ioc,
        [&] {
            return server_hs != asio::error::would_block && client_hs != asio::error::would_block;
        },
        10s));
    ASSERT_FALSE(server_hs) << server_hs.message();
    ASSERT_FALSE(client_hs) << client_hs.message();
    exercise<tls_stream>(ioc, std::move(server), std::move(client));
}

// The certificate check is real: a client that trusts nothing refuses the handshake, so the
// success above is not an accident of a permissive context.
TEST(SessionTransports, TlsHandshakeFailsWithoutTrustingTheCertificate) {
    const pem_pair pem = make_self_signed_certificate("localhost");
    asio::ssl::context server_ctx(asio::ssl::context::tls_server);
    server_ctx.use_certificate(asio::buffer(pem.certificate), asio::ssl::context::pem);
    server_ctx.use_private_key(asio::buffer(pem.private_key), asio::ssl::context::pem);
    asio::ssl::context client_ctx(asio::ssl::context::tls_client);
    client_ctx.set_verify_mode(asio::ssl::verify_peer);
    asio::io_context ioc;
    auto [a, b] = tcp_pair(ioc);
    tls_stream server(std::move(a), server_ctx);
    tls_stream client(std::move(b), client_ctx);
    boost::system::error_code server_hs = asio::error::would_block,
                              client_hs = asio::error::would_block;
    server.async_handshake(asio::ssl::stream_base::server,
                           [&](boost::system::error_code ec) { server_hs = ec; });
    client.async_handshake(asio::ssl::stream_base::client,
                           [&](boost::system::error_code ec) { client_hs = ec; });
    ASSERT_TRUE(run_until(
        ioc, [&] { return client_hs != asio::error::would_block; }, 10s));
    EXPECT_TRUE(client_hs);
}
