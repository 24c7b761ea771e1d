// An MQTT broker connection kept alive, and a dead broker noticed.
//
// heartbeat::mqtt_tcp_session runs MQTT over one TCP connection: CONNECT with a keep-alive
// derived from the heartbeat config, PINGREQ/PINGRESP as the heartbeat (any packet from the
// broker counts as proof of life), and the broker's own 1.5 x keep-alive rule kept even when its
// traffic keeps our monitor quiet. The application sends and receives whole MQTT packets (built
// and read with heartbeat::mqtt's codec). Here it subscribes, publishes to itself, then the
// broker hangs (SIGSTOP) and the session ends with peer_dead after the silence budget.
//
// The example starts its own mosquitto on a free loopback port; it exits 77 (skipped) when
// mosquitto is not installed, 0 when the broker's death was noticed in time.
#include "support/local_server.hpp"

#include <heartbeat/protocol/profile_sessions.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <fstream>

namespace asio = boost::asio;
namespace hb = heartbeat;
using namespace std::chrono_literals;

int main() {
    const auto mosquitto = example::find_program("mosquitto");
    if (!mosquitto) {
        std::puts("skipped: mosquitto is not installed (apt-get install mosquitto)");
        return example::skipped;
    }
    const unsigned short port = example::free_port();
    const std::string conf = "/tmp/heartbeat-example-mosquitto-" + std::to_string(port) + ".conf";
    std::ofstream(conf) << "listener " << port << " 127.0.0.1\nallow_anonymous true\n";
    example::local_server broker({*mosquitto, "-c", conf}, port);
    std::remove(conf.c_str());

    asio::io_context ioc;
    asio::ip::tcp::socket socket(ioc);
    socket.connect({asio::ip::make_address("127.0.0.1"), port});

    hb::mqtt_config config;
    config.version = hb::mqtt::protocol_version::v5;
    config.client_id = "heartbeat-example";
    config.heartbeat.interval = 300ms; // PINGREQ after 300 ms without a packet from the broker
    config.heartbeat.pong_timeout = 200ms;
    config.heartbeat.max_missed = 2; // budget: 300 + 2 x 200 = 700 ms (keep-alive 1 s)
    hb::session_callbacks on;
    on.on_rtt = [](hb::duration rtt, const hb::rtt_estimator&) {
        std::printf("PINGRESP after %.3f ms\n",
                    std::chrono::duration<double, std::milli>(rtt).count());
    };
    std::optional<hb::verdict> verdict;
    on.on_verdict = [&](const hb::verdict& v) { verdict = v; };
    hb::mqtt_tcp_session session(std::move(socket), config, on);

    boost::system::error_code ended;
    session.async_run([&](boost::system::error_code ec) { ended = ec; });
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            const hb::mqtt::subscription topics[] = {{"sensors/#", 1}};
            co_await session.async_send(hb::mqtt::encode_subscribe(1, topics, config.version),
                                        asio::use_awaitable);
            co_await session.async_send(
                hb::mqtt::encode_publish("sensors/t1", "21.5 C", 1, false, 2, config.version),
                asio::use_awaitable);
            for (;;) { // SUBACK, PUBACK and our own PUBLISH come back, in some order
                auto packet = co_await session.async_receive(asio::use_awaitable);
                std::printf("received %s\n", hb::mqtt::to_string(packet.type));
                if (packet.type == hb::mqtt::packet_type::publish) {
                    std::puts("the broker hangs now");
                    broker.freeze();
                }
            }
        },
        asio::detached);
    ioc.run_for(10s);
    broker.thaw();
    if (!verdict || ended != hb::error::peer_dead) {
        std::printf("FAILED: the session ended with %s\n", hb::error_name(ended));
        return 1;
    }
    std::printf(
        "ok: broker declared dead after %.0f ms of silence (budget %.0f ms)\n",
        std::chrono::duration<double, std::milli>(verdict->silence).count(),
        std::chrono::duration<double, std::milli>(hb::silence_budget(config.heartbeat)).count());
    return 0;
}
