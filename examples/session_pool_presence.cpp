// A presence service for many devices: one heartbeat::session_pool holds every device connection
// (one timer, one read buffer and one config for all of them), so a process keeps tens of
// thousands of them for less than a raw Asio socket with a timer each costs.
//
// The devices here are 1,000 members of a second pool in the same process (a real client would be
// a tcp_session, the client supervisor or another pool), plus 10 devices that say HELLO, check in
// and then go silent without a FIN, as a frozen or unplugged device does. The service:
//  * marks a device present when its "checkin <name>" message arrives (on_message);
//  * answers every check-in ("ok <name>"): send() writes at once, no operation per message;
//  * drops a device from the presence table when the pool declares it dead (on_ended with
//    peer_dead), within its silence budget of 300 ms + 2 x 300 ms = 0.9 s.
// Exits 0 only if exactly the 10 silent devices were dropped and the 1,000 others are still
// present and answered, 1 otherwise.
#include <heartbeat/pool/session_pool.hpp>
#include <heartbeat/protocol/native/frame_codec.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>

#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace hb = heartbeat;
using namespace std::chrono_literals;
using tcp = asio::ip::tcp;

int main() {
    asio::io_context ioc(1); // one thread runs every pool
    hb::session_pool_config config;
    config.session.heartbeat.interval = 300ms;
    config.session.heartbeat.pong_timeout = 300ms;
    config.session.heartbeat.max_missed = 2; // silence budget: 0.9 s
    config.capacity = 2000;

    // --- the service -----------------------------------------------------------------------
    std::map<std::uint32_t, std::string> present; // by member slot
    std::size_t dropped_dead = 0;
    hb::session_pool* service_ptr = nullptr;
    hb::session_pool_callbacks on;
    on.on_message = [&](hb::pool_member_id id, std::string_view m) {
        if (m.starts_with("checkin ")) {
            present[id.index] = std::string(m.substr(8));
            service_ptr->send(id, "ok " + present[id.index]);
        }
    };
    on.on_ended = [&](hb::pool_member_id id, const hb::pool_member_ending& e) {
        if (e.reason == hb::error::peer_dead)
            ++dropped_dead;
        present.erase(id.index);
    };
    hb::session_pool service(ioc, config, on);
    service_ptr = &service;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::function<void()> accept = [&] {
        acceptor.async_accept([&](boost::system::error_code ec, tcp::socket socket) {
            if (ec)
                return;
            service.add(std::move(socket), ec);
            if (ec)
                std::printf("refused a device: %s\n", ec.message().c_str());
            accept();
        });
    };
    accept();

    // --- 1,000 healthy devices, members of their own pool ------------------------------------
    std::size_t answered = 0;
    hb::session_pool* devices_ptr = nullptr;
    hb::session_pool_callbacks device_on;
    device_on.on_open = [&](hb::pool_member_id id) {
        devices_ptr->send(id, "checkin device-" + std::to_string(id.index));
    };
    device_on.on_message = [&](hb::pool_member_id, std::string_view m) {
        if (m.starts_with("ok "))
            ++answered;
    };
    hb::session_pool devices(ioc, config, device_on);
    devices_ptr = &devices;
    for (int i = 0; i < 1000; ++i) {
        tcp::socket s(ioc);
        s.connect(acceptor.local_endpoint());
        boost::system::error_code ec;
        devices.add(std::move(s), ec);
    }

    // --- 10 devices that check in, then go silent (no FIN, no reads, no pongs) ----------------
    std::vector<tcp::socket> silent;
    for (int i = 0; i < 10; ++i) {
        tcp::socket s(ioc);
        s.connect(acceptor.local_endpoint());
        std::vector<std::uint8_t> bytes;
        hb::encode_append(hb::hello_frame{}, bytes);
        const std::string checkin = "checkin silent-" + std::to_string(i);
        hb::encode_append(
            hb::data_frame{true,
                           {reinterpret_cast<const std::uint8_t*>(checkin.data()), checkin.size()}},
            bytes);
        asio::write(s, asio::buffer(bytes));
        silent.push_back(std::move(s));
    }

    // Run for three silence budgets: every verdict due has landed by then.
    ioc.run_for(3s);

    const auto st = service.stats();
    std::printf("service: %zu members, %zu present, %zu dropped as dead; devices answered: %zu; "
                "%llu pings sent, %llu answered, %llu timer wake-ups\n",
                st.members, present.size(), dropped_dead, answered,
                static_cast<unsigned long long>(st.pings_sent),
                static_cast<unsigned long long>(st.pings_answered),
                static_cast<unsigned long long>(st.timer_wakeups));
    const bool ok = dropped_dead == 10 && present.size() == 1000 && st.members == 1000 &&
                    answered == 1000 && devices.stats().members == 1000;
    std::printf("%s\n",
                ok ? "OK: the 10 silent devices were dropped, the 1,000 others stayed" : "FAILED");
    return ok ? 0 : 1;
}
