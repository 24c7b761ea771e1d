// hb_test_peer: a heartbeat echo server on 127.0.0.1, port chosen by the kernel, for integration
// tests that need a peer in another process (to freeze it with SIGSTOP or kill it with SIGKILL).
// Prints the port on the first line of stdout, then serves until killed.
//
// Usage: hb_test_peer [interval_ms pong_timeout_ms max_missed]
#include <heartbeat/server/server.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    namespace asio = boost::asio;
    heartbeat::server_config config;
    if (argc >= 4) {
        config.session.heartbeat.interval = std::chrono::milliseconds(std::atoi(argv[1]));
        config.session.heartbeat.pong_timeout = std::chrono::milliseconds(std::atoi(argv[2]));
        config.session.heartbeat.max_missed = static_cast<unsigned>(std::atoi(argv[3]));
        config.session.heartbeat.jitter = 0.0;
    }
    try {
        asio::io_context ioc;
        heartbeat::tcp_server server(
            ioc, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), config);
        std::printf("%u\n", static_cast<unsigned>(server.local_endpoint().port()));
        std::fflush(stdout);
        server.async_run(asio::detached);
        ioc.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hb_test_peer: %s\n", e.what());
        return 1;
    }
    return 0;
}
