#pragma once
// A prototype of the shared-timer design the scale targets call for, to measure it before the
// session core adopts it: all connections of a process are monitored by one
// peer_monitor_table, driven by ONE steady_timer ticking every 5 ms (no timer per connection),
// and each tick's due pings are written in one batch with non-blocking send()s (no async write
// operation per ping). Reads wait for readiness (async_wait) and drain the socket into one
// shared buffer, so an idle connection holds its socket, a 16-byte partial-frame buffer and its
// 32-byte table record.
//
// Wire: 16-byte frames, byte 0 'P' (ping) or 'O' (pong), bytes 1-4 the sequence number. Both
// sides ping after `interval` of silence and answer pings: the same schedule as the hb sessions.
#include <heartbeat/core/peer_monitor_table.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <vector>

namespace scale {

class wheel_heartbeats {
public:
    using tcp = boost::asio::ip::tcp;

    wheel_heartbeats(boost::asio::io_context& ioc, std::size_t capacity)
        : ioc_(ioc), table_(config(), capacity, std::chrono::steady_clock::now()), tick_(ioc),
          conns_(capacity) {
        due_.reserve(capacity);
        arm();
    }

    void add(tcp::socket socket) {
        const auto id = table_.add(std::chrono::steady_clock::now());
        if (!id)
            return; // full: the socket closes here
        socket.set_option(tcp::no_delay(true));
        socket.non_blocking(true);
        conns_[*id] = std::make_unique<connection>(std::move(socket));
        ++open_;
        wait_readable(*id);
    }

    std::uint64_t heartbeats() const noexcept { return pings_sent_ + pings_answered_; }
    std::uint64_t open() const noexcept { return open_; }

private:
    struct connection {
        explicit connection(tcp::socket s) : socket(std::move(s)) {}
        tcp::socket socket;
        std::array<std::uint8_t, 16> partial{};
        std::uint8_t have = 0;
    };
    struct due_ping {
        std::uint32_t peer;
        std::uint32_t seq;
    };

    static heartbeat::monitor_config config() {
        heartbeat::monitor_config c;
        c.interval = std::chrono::seconds(1);
        c.pong_timeout = std::chrono::seconds(1);
        c.max_missed = 2; // a 3 s budget, as the raw loop's
        return c;
    }

    void arm() {
        tick_.expires_after(std::chrono::milliseconds(5));
        tick_.async_wait([this](boost::system::error_code ec) {
            if (ec)
                return;
            on_tick();
            arm();
        });
    }

    void on_tick() {
        const auto now = std::chrono::steady_clock::now();
        due_.clear();
        dead_.clear();
        table_.advance(now, [this](const heartbeat::peer_action& a) {
            if (a.kind == heartbeat::peer_action_kind::send_ping)
                due_.push_back({a.peer, a.seq});
            else if (a.kind == heartbeat::peer_action_kind::dead)
                dead_.push_back(a.peer);
        });
        auto ignore = [](const heartbeat::peer_action&) {};
        for (const due_ping& p : due_) {
            if (send(p.peer, 'P', p.seq)) {
                ++pings_sent_;
                table_.on_ping_written(p.peer, p.seq, now, ignore);
            }
        }
        for (std::uint32_t id : dead_)
            drop(id);
    }

    bool send(std::uint32_t id, char type, std::uint32_t seq) {
        connection* c = conns_[id].get();
        if (!c)
            return false;
        std::array<std::uint8_t, 16> frame{};
        frame[0] = static_cast<std::uint8_t>(type);
        std::memcpy(&frame[1], &seq, sizeof seq);
        boost::system::error_code ec;
        // 16 bytes into a socket that is never backed up at this rate; a short or failed write
        // ends the connection (a prototype needs no send queue).
        if (c->socket.write_some(boost::asio::buffer(frame), ec) != frame.size()) {
            drop(id);
            return false;
        }
        return true;
    }

    void wait_readable(std::uint32_t id) {
        conns_[id]->socket.async_wait(tcp::socket::wait_read,
                                      [this, id](boost::system::error_code ec) {
                                          if (ec == boost::asio::error::operation_aborted)
                                              return; // dropped; the id may be reused already
                                          if (ec)
                                              return drop(id);
                                          on_readable(id);
                                      });
    }

    void on_readable(std::uint32_t id) {
        const auto now = std::chrono::steady_clock::now();
        auto ignore = [](const heartbeat::peer_action&) {};
        for (;;) {
            connection& c = *conns_[id];
            boost::system::error_code ec;
            const std::size_t n = c.socket.read_some(boost::asio::buffer(scratch_), ec);
            if (ec == boost::asio::error::would_block)
                break;
            if (ec)
                return drop(id);
            for (std::size_t i = 0; i < n; ++i) {
                c.partial[c.have++] = scratch_[i];
                if (c.have < c.partial.size())
                    continue;
                c.have = 0;
                std::uint32_t seq = 0;
                std::memcpy(&seq, &c.partial[1], sizeof seq);
                if (c.partial[0] == 'P') {
                    table_.on_inbound(id, now, ignore);
                    if (!send(id, 'O', seq))
                        return;
                    ++pings_answered_;
                } else {
                    table_.on_pong(id, seq, now, ignore);
                }
            }
        }
        wait_readable(id);
    }

    void drop(std::uint32_t id) {
        if (!conns_[id])
            return;
        conns_[id].reset();
        table_.remove(id);
        --open_;
    }

    boost::asio::io_context& ioc_;
    heartbeat::peer_monitor_table table_;
    boost::asio::steady_timer tick_;
    std::vector<std::unique_ptr<connection>> conns_; // by table peer id
    std::vector<due_ping> due_;
    std::vector<std::uint32_t> dead_;
    std::array<std::uint8_t, 4096> scratch_{};
    std::uint64_t pings_sent_ = 0, pings_answered_ = 0, open_ = 0;
};

} // namespace scale
