#pragma once
// The client side of the soak: N heartbeat::client supervisors on one io_context thread, each
// streaming numbered messages to a primary peer with a backup, recording every verdict and
// every ending so the controller can judge them against the faults it injected.
#include <heartbeat/client/client.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace soak {

using soak_clock = std::chrono::steady_clock;

struct verdict_record {
    double at_s = 0;      // since the soak started
    int peer = -1;        // index of the peer the dead session was on
    double silence_s = 0; // as the monitor saw it
    double stalled_s = 0; // part of the silence our own process was stalled
    unsigned missed = 0;
};

struct fleet_totals {
    std::uint64_t sent = 0;     // async_send calls
    std::uint64_t accepted = 0; // async_send completions without error
    std::uint64_t send_errors = 0;
    std::uint64_t acked = 0;
    std::uint64_t resent = 0;
    std::uint64_t unacked = 0;
    std::uint64_t sessions = 0; // sessions established, all clients
    std::uint64_t failovers = 0;
    std::uint64_t failbacks = 0;
    std::uint64_t verdicts = 0;
    std::uint64_t connected_now = 0;
    std::uint64_t run_endings = 0;
    std::uint64_t run_errors = 0; // async_run ended other than by close()
};

struct fleet_options {
    std::size_t sessions = 1000;
    double rate = 2.0; // messages per second per session
    std::size_t payload = 64;
    heartbeat::client_config config;
    // Take events with async_wait_event (true) or only through the constructor's callback.
    // With the callback alone the client still queues up to 1,024 untaken events per client
    // (client_driver.cpp emit()), which grows RSS by ~200 KB per client over a long run.
    bool wait_events = true;
};

class soak_fleet {
public:
    // Session i uses peers[i % P] as primary and peers[(i + 1) % P] as backup.
    soak_fleet(boost::asio::io_context& ioc, const std::vector<unsigned short>& ports,
               fleet_options options, soak_clock::time_point start);
    soak_fleet(const soak_fleet&) = delete;
    soak_fleet& operator=(const soak_fleet&) = delete;

    // All on the io_context's thread (post them there).
    void start();
    void stop_sending();
    void close_all();
    fleet_totals totals() const;

    // Written on the io_context's thread; read by the controller only after that thread ended.
    std::vector<verdict_record> verdicts;
    std::map<std::string, std::uint64_t> closed_reasons; // ending reason -> count

    std::atomic<std::size_t> ever_connected{0}; // sessions that connected at least once

private:
    struct member {
        std::unique_ptr<heartbeat::client> client;
        std::unique_ptr<boost::asio::steady_timer> timer;
        bool ever_connected = false;
        bool run_ended = false;
    };
    void on_event(std::size_t index, const heartbeat::client_event& e);
    void wait_event(std::size_t index);
    void arm(std::size_t index, std::chrono::nanoseconds delay);
    void send_one(std::size_t index);
    double now_s() const;

    boost::asio::io_context& ioc_;
    fleet_options options_;
    soak_clock::time_point start_;
    std::vector<member> members_;
    std::string payload_;
    std::mt19937_64 rng_{0x50a4};
    bool sending_ = false;
    std::uint64_t sent_ = 0, accepted_ = 0, send_errors_ = 0, run_errors_ = 0, run_endings_ = 0;
};

} // namespace soak
