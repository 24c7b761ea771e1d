// Cancelling a server's async_run through its cancellation slot (asio::cancellation_signal bound
// with bind_cancellation_slot), for the native and the WebSocket server alike: whatever the
// cancellation type, the server stops accepting and closes every session, so async_run completes
// with operation_aborted, each connected peer's session ends with a named reason, and the
// listener no longer takes connections. And tearing a server down with its io_context while
// sessions are still pending releases everything the server owns.
#include "test_support.hpp"

#include <heartbeat/server/server.hpp>
#include <heartbeat/server/websocket_server.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <sys/socket.h>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

namespace websocket = boost::beast::websocket;

// Heartbeats slow enough that no verdict can end a session during a test.
template <class SessionConfig>
SessionConfig steady_heartbeats() {
    SessionConfig c;
    c.heartbeat.interval = 200ms;
    c.heartbeat.pong_timeout = 2000ms;
    c.heartbeat.max_missed = 3;
    c.heartbeat.jitter = 0.0;
    return c;
}

// A server under test, its config and the session its peers run.
template <class Server, class ServerConfig, class Client>
struct server_case {
    using server_type = Server;
    using server_config_type = ServerConfig;
    using client_type = Client;
};

struct native_case : server_case<tcp_server, server_config, tcp_session> {
    static constexpr const char* name = "Native";

    // A bare connection on `client_ioc` (no session): the server admits it when it accepts.
    static std::shared_ptr<void> connect_bare(asio::io_context& client_ioc, asio::io_context&,
                                              const tcp::endpoint& at) {
        auto socket = std::make_shared<tcp::socket>(client_ioc);
        boost::system::error_code ec;
        socket->connect(at, ec);
        return ec ? nullptr : socket;
    }

    static std::unique_ptr<client_type> connect(asio::io_context& ioc, const tcp::endpoint& at) {
        tcp::socket socket(ioc);
        socket.connect(at);
        return std::make_unique<client_type>(std::move(socket),
                                             steady_heartbeats<session_config>());
    }
};

struct websocket_case : server_case<websocket_server, websocket_server_config, ws_session> {
    static constexpr const char* name = "WebSocket";

    // A bare upgraded connection on `client_ioc` (no session), while `server_ioc` runs on this
    // thread until the server has admitted it; null if that took too long.
    static std::shared_ptr<void> connect_bare(asio::io_context& client_ioc,
                                              asio::io_context& server_ioc,
                                              const tcp::endpoint& at) {
        auto ws = std::make_shared<websocket::stream<tcp::socket>>(client_ioc);
        boost::system::error_code ec;
        std::atomic<bool> finished{false};
        std::thread upgrade([&] {
            boost::beast::get_lowest_layer(*ws).connect(at, ec);
            if (!ec)
                ws->handshake("127.0.0.1", "/", ec);
            finished = true;
        });
        run_until(
            server_ioc, [&] { return finished.load(); }, 5s);
        if (!finished) // unblock the thread's read: the OS call is safe from here
            ::shutdown(boost::beast::get_lowest_layer(*ws).native_handle(), SHUT_RDWR);
        upgrade.join();
        return ec ? nullptr : ws;
    }

    // The upgrade runs on `ioc`, which the server shares: it must make progress meanwhile.
    static std::unique_ptr<client_type> connect(asio::io_context& ioc, const tcp::endpoint& at) {
        websocket::stream<tcp::socket> ws(ioc);
        boost::beast::get_lowest_layer(ws).connect(at);
        bool upgraded = false;
        ws.async_handshake("127.0.0.1", "/", [&](boost::system::error_code ec) { upgraded = !ec; });
        if (!run_until(
                ioc, [&] { return upgraded; }, 5s))
            return nullptr;
        return std::make_unique<client_type>(std::move(ws),
                                             steady_heartbeats<websocket_session_config>());
    }
};

template <class Case>
typename Case::server_config_type server_config_of() {
    typename Case::server_config_type c;
    c.session = steady_heartbeats<decltype(c.session)>();
    return c;
}

std::string payload_of(std::string message) {
    return message;
}
std::string payload_of(websocket_message message) {
    return std::move(message.payload);
}

struct case_names {
    template <class Case>
    static std::string GetName(int) {
        return Case::name;
    }
};

// A connected peer and how its session ended.
template <class Client>
struct client_peer {
    std::unique_ptr<Client> session;
    bool ended = false;
    boost::system::error_code reason;
    std::string echoed;
};

// Every type a cancellation may have, with its name for the trace.
struct named_cancellation {
    asio::cancellation_type type;
    const char* name;
};
const named_cancellation kCancellations[] = {{asio::cancellation_type::terminal, "terminal"},
                                             {asio::cancellation_type::partial, "partial"},
                                             {asio::cancellation_type::total, "total"}};

} // namespace

template <class Case>
class ServerCancel : public ::testing::Test {};

using server_cases = ::testing::Types<native_case, websocket_case>;
TYPED_TEST_SUITE(ServerCancel, server_cases, case_names);

TYPED_TEST(ServerCancel, AnyCancellationTypeClosesEverySessionAndStopsAccepting) {
    using Case = TypeParam;
    constexpr std::size_t kPeers = 2;
    for (const auto& cancellation : kCancellations) {
        SCOPED_TRACE(cancellation.name);
        asio::io_context ioc;
        std::vector<std::uint64_t> connected;
        std::map<std::uint64_t, boost::system::error_code> closed; // peer id -> server's reason
        server_callbacks callbacks;
        callbacks.on_peer_connected = [&](const peer_info& p) { connected.push_back(p.id); };
        callbacks.on_peer_closed = [&](const peer_info& p, boost::system::error_code reason) {
            closed[p.id] = reason;
        };
        typename Case::server_type server(ioc, loopback(), server_config_of<Case>(), callbacks);
        const auto listening = server.local_endpoint();

        asio::cancellation_signal signal;
        bool run_done = false;
        int run_completions = 0;
        boost::system::error_code run_reason;
        server.async_run(
            asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code ec) {
                run_reason = ec;
                run_done = true;
                ++run_completions;
            }));

        // Peers that are connected and exchanging messages when the cancellation comes.
        std::vector<client_peer<typename Case::client_type>> peers(kPeers);
        for (auto& peer : peers) {
            peer.session = Case::connect(ioc, listening);
            ASSERT_NE(peer.session, nullptr) << "the upgrade did not complete";
            auto* p = &peer;
            peer.session->async_run([p](boost::system::error_code ec) {
                p->reason = ec;
                p->ended = true;
            });
            peer.session->async_send("hello", [](boost::system::error_code) {});
            peer.session->async_receive([p](boost::system::error_code ec, auto message) {
                if (!ec)
                    p->echoed = payload_of(std::move(message));
            });
        }
        ASSERT_TRUE(run_until(
            ioc,
            [&] {
                return connected.size() == kPeers &&
                       std::all_of(peers.begin(), peers.end(),
                                   [](const auto& p) { return p.echoed == "hello"; });
            },
            10s))
            << "the peers never got their echo";
        ASSERT_EQ(server.stats().active, kPeers);

        signal.emit(cancellation.type);
        ASSERT_TRUE(run_until(
            ioc,
            [&] {
                return run_done && closed.size() == kPeers &&
                       std::all_of(peers.begin(), peers.end(),
                                   [](const auto& p) { return p.ended; });
            },
            10s))
            << "run_done " << run_done << ", server-side sessions ended " << closed.size();

        EXPECT_EQ(run_reason, asio::error::operation_aborted) << run_reason.message();
        EXPECT_EQ(run_completions, 1);
        // The server closed each session: its peers were told, and each side names why.
        for (const auto& peer : peers)
            EXPECT_EQ(peer.reason, error::peer_closed) << peer.reason.message();
        for (const auto& [id, reason] : closed)
            EXPECT_EQ(reason, error::session_closed) << "peer " << id << ": " << reason.message();
        const auto stats = server.stats();
        EXPECT_EQ(stats.active, 0u);
        EXPECT_EQ(stats.ended, kPeers);
        EXPECT_EQ(stats.accepted, kPeers);

        // The listener is closed: a new connection is refused.
        tcp::socket late(ioc);
        boost::system::error_code connect_ec;
        late.connect(listening, connect_ec);
        EXPECT_EQ(connect_ec, asio::error::connection_refused) << connect_ec.message();
        run_for(ioc, 100ms);
        EXPECT_EQ(server.stats().accepted, kPeers);
        EXPECT_EQ(connected.size(), kPeers);
    }
}

// After close(), async_run completes with operation_aborted, once: a later emit of its signal
// reaches nothing (the server's slot handler was cleared when it completed).
TYPED_TEST(ServerCancel, AnEmitAfterCompletionIsHarmless) {
    using Case = TypeParam;
    asio::io_context ioc;
    typename Case::server_type server(ioc, loopback(), server_config_of<Case>());
    asio::cancellation_signal signal;
    bool run_done = false;
    int run_completions = 0;
    boost::system::error_code run_reason;
    server.async_run(asio::bind_cancellation_slot(signal.slot(), [&](boost::system::error_code ec) {
        run_reason = ec;
        run_done = true;
        ++run_completions;
    }));
    run_for(ioc, 20ms);
    EXPECT_TRUE(signal.slot().has_handler());
    EXPECT_FALSE(run_done) << "async_run never completes before close() or cancellation";
    server.close();
    ASSERT_TRUE(run_until(
        ioc, [&] { return run_done; }, 5s));
    EXPECT_EQ(run_reason, asio::error::operation_aborted) << run_reason.message();
    signal.emit(asio::cancellation_type::terminal);
    run_for(ioc, 20ms);
    EXPECT_EQ(run_completions, 1);
}

template <class Case>
class ServerTeardown : public ::testing::Test {};
TYPED_TEST_SUITE(ServerTeardown, server_cases, case_names);

// The server's sessions hold their server through their pending completions. When no handler
// will run again — the io_context stopped, or destroyed while the server's close was still in
// flight — destroying the server and the io_context must still free the server, its sessions
// and whatever its callbacks captured (observed through a sentinel a callback owns).
TYPED_TEST(ServerTeardown, DestroyingServerAndIoContextWithSessionsPendingReleasesEverything) {
    using Case = TypeParam;
    for (const bool stop_first : {true, false}) {
        SCOPED_TRACE(stop_first ? "io_context stopped, then server and io_context destroyed"
                                : "server destroyed while running, then the io_context");
        asio::io_context client_ioc;
        auto ioc = std::make_unique<asio::io_context>();
        auto sentinel = std::make_shared<int>(0);
        const std::weak_ptr<int> observed = sentinel;
        server_callbacks callbacks;
        callbacks.on_peer_connected = [sentinel](const peer_info&) {};
        sentinel.reset();
        auto server = std::make_unique<typename Case::server_type>(
            *ioc, loopback(), server_config_of<Case>(), std::move(callbacks));
        server->async_run(asio::detached);
        std::vector<std::shared_ptr<void>> peers;
        for (int i = 0; i < 2; ++i) {
            peers.push_back(Case::connect_bare(client_ioc, *ioc, server->local_endpoint()));
            ASSERT_NE(peers.back(), nullptr) << "peer " << i << " could not connect";
        }
        ASSERT_TRUE(run_until(
            *ioc, [&] { return server->stats().active == 2; }, 5s));
        run_for(*ioc, 50ms); // the sessions' handshakes and first heartbeats are in flight

        if (stop_first)
            ioc->stop();
        server.reset();
        ioc.reset();
        EXPECT_TRUE(observed.expired())
            << "the server (and what its callbacks own) outlived its io_context: leaked";
    }
}
