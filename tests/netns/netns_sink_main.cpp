// netns_sink: a native heartbeat server for the namespace fault tests. It listens on
// 0.0.0.0:PORT (every address of its namespace, so two paths reach the same server) and prints
// one JSON line per event on stdout, flushed, so a SIGKILLed sink has already told what it took:
//   {"event":"listening","port":P}
//   {"event":"peer_connected","peer":"A:P"}
//   {"event":"message","seq":N,"peer":"A:P"}      every message taken (the client's sequence)
//   {"event":"peer_dead","peer":"A:P","silent_ms":S}
//   {"event":"peer_closed","peer":"A:P","reason":"R"}
// Messages are not echoed: the test counts deliveries here, not round trips.
//
// Usage: netns_sink PORT INTERVAL_MS PONG_TIMEOUT_MS MISSES
#include <heartbeat/core/error.hpp>
#include <heartbeat/server/server.hpp>

#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace {

namespace asio = boost::asio;

// A named error for bad arguments; the caller prints it and exits with status 2.
struct usage_error {
    std::string what;
};

unsigned long number_arg(const char* name, const char* text, unsigned long max) {
    char* end = nullptr;
    const unsigned long value = std::strtoul(text, &end, 10);
    if (*text == '\0' || *end != '\0' || value > max)
        throw usage_error{std::string(name) + ": expected a number in [0, " + std::to_string(max) +
                          "], got \"" + text + "\""};
    return value;
}

heartbeat::server_callbacks json_callbacks() {
    heartbeat::server_callbacks cb;
    cb.on_peer_connected = [](const heartbeat::peer_info& p) {
        std::printf("{\"event\":\"peer_connected\",\"peer\":\"%s\"}\n", p.address.c_str());
        std::fflush(stdout);
    };
    cb.on_message = [](const heartbeat::peer_info& p, heartbeat::received_message m) {
        std::printf("{\"event\":\"message\",\"seq\":%llu,\"peer\":\"%s\"}\n",
                    static_cast<unsigned long long>(m.seq), p.address.c_str());
        std::fflush(stdout);
    };
    cb.on_peer_dead = [](const heartbeat::peer_info& p, const heartbeat::verdict& v) {
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(v.silence).count();
        std::printf("{\"event\":\"peer_dead\",\"peer\":\"%s\",\"silent_ms\":%lld}\n",
                    p.address.c_str(), static_cast<long long>(ms));
        std::fflush(stdout);
    };
    cb.on_peer_closed = [](const heartbeat::peer_info& p, boost::system::error_code reason) {
        std::printf("{\"event\":\"peer_closed\",\"peer\":\"%s\",\"reason\":\"%s\"}\n",
                    p.address.c_str(), heartbeat::error_name(reason));
        std::fflush(stdout);
    };
    return cb;
}

} // namespace

int main(int argc, char** argv) {
    try {
        if (argc != 5)
            throw usage_error{"usage: netns_sink PORT INTERVAL_MS PONG_TIMEOUT_MS MISSES"};
        const auto port = static_cast<unsigned short>(number_arg("PORT", argv[1], 65535));
        heartbeat::server_config config;
        config.echo = false;
        config.session.heartbeat.interval =
            std::chrono::milliseconds(number_arg("INTERVAL_MS", argv[2], 3'600'000));
        config.session.heartbeat.pong_timeout =
            std::chrono::milliseconds(number_arg("PONG_TIMEOUT_MS", argv[3], 3'600'000));
        config.session.heartbeat.max_missed =
            static_cast<unsigned>(number_arg("MISSES", argv[4], 1000));
        asio::io_context ioc;
        heartbeat::tcp_server server(ioc, asio::ip::tcp::endpoint(asio::ip::tcp::v4(), port),
                                     config, json_callbacks());
        std::printf("{\"event\":\"listening\",\"port\":%u}\n",
                    static_cast<unsigned>(server.local_endpoint().port()));
        std::fflush(stdout);
        server.async_run(asio::detached);
        ioc.run();
    } catch (const usage_error& e) {
        std::fprintf(stderr, "netns_sink: %s\n", e.what.c_str());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "netns_sink: %s\n", e.what());
        return 1;
    }
    return 0;
}
