// hb_soak_peer: one heartbeat server process of the soak test, on 127.0.0.1. It does not echo
// (the soak checks the client's ACK accounting, and echoes would only double the load on two
// cores). Prints its port on the first stdout line, then serves until SIGKILLed.
//
// Usage: hb_soak_peer PORT INTERVAL_MS PONG_TIMEOUT_MS MAX_MISSED
//   PORT 0 lets the kernel choose; a restarted peer gets its old port back so the clients'
//   fixed endpoint lists stay valid.
#include <heartbeat/server/server.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>

int main(int argc, char** argv) {
    namespace asio = boost::asio;
    if (argc != 5) {
        std::fprintf(stderr, "usage: hb_soak_peer PORT INTERVAL_MS PONG_TIMEOUT_MS MAX_MISSED\n");
        return 2;
    }
    heartbeat::server_config config;
    config.echo = false;
    config.session.heartbeat.interval = std::chrono::milliseconds(std::atoi(argv[2]));
    config.session.heartbeat.pong_timeout = std::chrono::milliseconds(std::atoi(argv[3]));
    config.session.heartbeat.max_missed = static_cast<unsigned>(std::atoi(argv[4]));
    const int port = std::atoi(argv[1]);
    if (port < 0 || port > 65535) {
        std::fprintf(stderr, "hb_soak_peer: invalid port %s\n", argv[1]);
        return 2;
    }
    try {
        asio::io_context ioc;
        heartbeat::tcp_server server(ioc,
                                     asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"),
                                                             static_cast<unsigned short>(port)),
                                     config);
        std::printf("%u\n", static_cast<unsigned>(server.local_endpoint().port()));
        std::fflush(stdout);
        server.async_run(asio::detached);
        ioc.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "hb_soak_peer: %s\n", e.what());
        return 1;
    }
    return 0;
}
