// server::close() called from another thread while its peers leave: each session's close must
// run on the session's own executor while the session still exists. It used to be posted with
// only the session's `this`, so a peer whose session ended (and was destroyed) in between made
// that close read freed memory (AddressSanitizer: heap-use-after-free in session::close). A race:
// the test repeats it, and is meant to be run under ASan (scripts/test.sh does).
#include "client_test_support.hpp"

#include <heartbeat/server/server.hpp>

#include <gtest/gtest.h>

#include <thread>
#include <vector>

using namespace heartbeat;
using namespace std::chrono_literals;
namespace ht = heartbeat::test;
namespace cs = heartbeat::test::client_support;
namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

TEST(ServerCloseRace, CloseFromAnotherThreadWhilePeersLeave) {
    constexpr int rounds = 60;
    constexpr std::uint64_t peers = 32;
    server_config cfg;
    cfg.session = ht::fast_config(100ms, 200ms, 3);
    for (int round = 0; round < rounds; ++round) {
        cs::threaded_server server(0, cfg);
        asio::io_context ioc;
        std::vector<tcp::socket> sockets;
        for (std::uint64_t i = 0; i < peers; ++i) {
            sockets.emplace_back(ioc);
            sockets.back().connect({asio::ip::make_address("127.0.0.1"), server.port()});
            asio::write(sockets.back(), asio::buffer(ht::hello_bytes()));
        }
        ASSERT_TRUE(ht::wait_until([&] { return server.stats().active == peers; }, 10s))
            << "round " << round << ": " << server.stats().active << " sessions";
        // Both at once: the peers' EOFs end their sessions on the server's thread while this
        // thread closes the server.
        for (auto& s : sockets) {
            boost::system::error_code ignored;
            s.close(ignored);
        }
        // A different head start each round for the server's thread, so some sessions end
        // just before, some just after, the close collects them.
        std::this_thread::sleep_for(std::chrono::microseconds(100 * (round % 8)));
        server.server().close();
        EXPECT_TRUE(server.shutdown(5000ms)) << "round " << round;
    }
}

} // namespace
