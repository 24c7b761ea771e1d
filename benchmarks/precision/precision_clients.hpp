#pragma once
// The contenders of detection_precision.cpp (configured as its header explains): each connects
// to the peer, says when it is warmed up, and records the instant of its verdict and the silence
// it had observed then.
#include "freeze_peer.hpp"

#include <heartbeat/protocol/websocket/websocket_session.hpp>

#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <netinet/tcp.h>

namespace precision {

using steady = std::chrono::steady_clock;
using boost::system::error_code;
using ws_stream = websocket::stream<tcp::socket>;

struct outcome {
    std::string name;
    bool detected = false;
    steady::time_point at{};
    steady::duration silence{};
    double detect_over_budget = 0;
    double silence_over_budget = 0;
    std::string note; // how it ended, for diagnostics
};

class contender {
public:
    virtual ~contender() = default;
    virtual std::string name() const = 0;
    virtual bool ready() const = 0;
    virtual outcome result() const = 0;
    virtual void poll() {} // called after every turn of the loop (ZeroMQ is not on asio)
};

inline tcp::socket connect_to(asio::io_context& ioc, unsigned short port) {
    tcp::socket s(ioc);
    s.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port));
    s.set_option(tcp::no_delay(true));
    return s;
}

// phi of a normal N(mean, sd) at mean + z * sd: what phi_accrual_detector computes.
inline double phi_at_z(double z) {
    return -std::log10(0.5 * std::erfc(z / std::sqrt(2.0)));
}

class session_contender final : public contender {
public:
    session_contender(asio::io_context& ioc, unsigned short port, steady::duration budget, bool phi)
        : name_(phi ? "phi" : "missed") {
        heartbeat::websocket_session_config cfg;
        cfg.heartbeat.interval = budget / 4;
        cfg.heartbeat.pong_timeout = budget / 4;
        cfg.heartbeat.max_missed = 3;
        if (phi) {
            const auto sd = budget / 8;
            const double z_dead = static_cast<double>((budget - cfg.heartbeat.interval).count()) /
                                  static_cast<double>(sd.count());
            cfg.heartbeat.detector = heartbeat::detector_kind::phi_accrual;
            cfg.heartbeat.phi.min_std_deviation = sd;
            cfg.heartbeat.phi.first_interval_estimate = cfg.heartbeat.interval;
            cfg.heartbeat.phi.dead_threshold = phi_at_z(z_dead);
            cfg.heartbeat.phi.suspect_threshold = phi_at_z(2.0);
        }
        heartbeat::session_callbacks cb;
        cb.on_rtt = [this](heartbeat::duration, const heartbeat::rtt_estimator&) { ++pongs_; };
        cb.on_verdict = [this](const heartbeat::verdict& v) { verdict_ = v; };
        ws_stream ws(connect_to(ioc, port));
        ws.handshake("127.0.0.1:" + std::to_string(port), "/");
        session_.emplace(std::move(ws), cfg, cb);
        session_->async_run([this](error_code ec) { ended_ = ec; });
    }
    std::string name() const override { return name_; }
    bool ready() const override { return pongs_ >= 2; }
    outcome result() const override {
        outcome o{name_};
        if (verdict_ && ended_ == heartbeat::error::peer_dead) {
            o.detected = true;
            o.at = verdict_->at;
            o.silence = verdict_->silence;
        }
        o.note = ended_ ? ended_->message() : "running";
        return o;
    }

private:
    std::string name_;
    std::optional<heartbeat::ws_session> session_;
    int pongs_ = 0;
    std::optional<heartbeat::verdict> verdict_;
    std::optional<error_code> ended_;
};

class beast_contender final : public contender {
public:
    beast_contender(asio::io_context& ioc, unsigned short port, steady::duration budget)
        : ws_(connect_to(ioc, port)) {
        websocket::stream_base::timeout opt{};
        opt.handshake_timeout = std::chrono::seconds(2);
        opt.idle_timeout = budget;
        opt.keep_alive_pings = true;
        ws_.set_option(opt);
        ws_.control_callback([this](websocket::frame_type kind, beast::string_view) {
            last_frame_ = steady::now();
            if (kind == websocket::frame_type::pong)
                ++pongs_;
        });
        ws_.async_handshake("127.0.0.1:" + std::to_string(port), "/", [this](error_code ec) {
            if (ec) {
                ended_ = ec;
                return;
            }
            last_frame_ = steady::now(); // the handshake response is its first inbound
            ws_.async_read(buf_, [this](error_code rec, std::size_t) {
                failed_at_ = steady::now();
                ended_ = rec;
            });
        });
    }
    std::string name() const override { return "beast"; }
    bool ready() const override { return pongs_ >= 1; }
    outcome result() const override {
        outcome o{"beast"};
        if (ended_ == beast::error::timeout) {
            o.detected = true;
            o.at = failed_at_;
            o.silence = failed_at_ - last_frame_;
        }
        o.note = ended_ ? ended_->message() : "running";
        return o;
    }

private:
    ws_stream ws_;
    beast::flat_buffer buf_;
    int pongs_ = 0;
    steady::time_point last_frame_{}, failed_at_{};
    std::optional<error_code> ended_;
};

class zmq_contender final : public contender {
public:
    zmq_contender(const std::string& endpoint, steady::duration budget) {
        using std::chrono::duration_cast;
        using std::chrono::milliseconds;
        ctx_ = zmq_ctx_new();
        sock_ = zmq_socket(ctx_, ZMQ_DEALER);
        const int ivl = static_cast<int>(duration_cast<milliseconds>(budget / 4).count());
        const int timeout = static_cast<int>(duration_cast<milliseconds>(budget).count());
        const int zero = 0;
        zmq_setsockopt(sock_, ZMQ_HEARTBEAT_IVL, &ivl, sizeof ivl);
        zmq_setsockopt(sock_, ZMQ_HEARTBEAT_TIMEOUT, &timeout, sizeof timeout);
        zmq_setsockopt(sock_, ZMQ_HEARTBEAT_TTL, &timeout, sizeof timeout);
        zmq_setsockopt(sock_, ZMQ_LINGER, &zero, sizeof zero);
        echo_every_ = budget / 16;
        const std::string mon =
            "inproc://monitor-" + std::to_string(reinterpret_cast<uintptr_t>(this));
        if (zmq_socket_monitor(sock_, mon.c_str(), ZMQ_EVENT_DISCONNECTED) != 0)
            fail(std::string("zmq_socket_monitor: ") + zmq_strerror(zmq_errno()));
        monitor_ = zmq_socket(ctx_, ZMQ_PAIR);
        if (zmq_connect(monitor_, mon.c_str()) != 0 || zmq_connect(sock_, endpoint.c_str()) != 0)
            fail(std::string("zmq_connect: ") + zmq_strerror(zmq_errno()));
    }
    ~zmq_contender() override {
        zmq_close(monitor_);
        zmq_close(sock_);
        zmq_ctx_term(ctx_);
    }
    std::string name() const override { return "zmq"; }
    bool ready() const override { return echoes_ >= 2; }
    void poll() override {
        const auto now = steady::now();
        if (!disconnected_at_ && now >= next_echo_) {
            zmq_send(sock_, "e", 1, ZMQ_DONTWAIT);
            next_echo_ = now + echo_every_;
        }
        char buf[16];
        while (zmq_recv(sock_, buf, sizeof buf, ZMQ_DONTWAIT) >= 0) {
            last_echo_ = steady::now();
            ++echoes_;
        }
        zmq_msg_t m;
        zmq_msg_init(&m);
        while (zmq_msg_recv(&m, monitor_, ZMQ_DONTWAIT) >= 0) {
            // Frame 1: 16-bit event + 32-bit value; frame 2: the endpoint.
            const bool first = zmq_msg_size(&m) >= 2;
            std::uint16_t event = 0;
            if (first)
                std::memcpy(&event, zmq_msg_data(&m), sizeof event);
            if (first && event == ZMQ_EVENT_DISCONNECTED && !disconnected_at_)
                disconnected_at_ = steady::now();
        }
        zmq_msg_close(&m);
    }
    outcome result() const override {
        outcome o{"zmq"};
        if (disconnected_at_) {
            o.detected = true;
            o.at = *disconnected_at_;
            o.silence = *disconnected_at_ - last_echo_;
        }
        o.note = disconnected_at_ ? "disconnected" : "connected";
        return o;
    }

private:
    void* ctx_ = nullptr;
    void* sock_ = nullptr;
    void* monitor_ = nullptr;
    steady::duration echo_every_{};
    steady::time_point next_echo_{}, last_echo_{};
    int echoes_ = 0;
    std::optional<steady::time_point> disconnected_at_;
};

class tcp_keepalive_contender final : public contender {
public:
    tcp_keepalive_contender(asio::io_context& ioc, unsigned short port)
        : socket_(connect_to(ioc, port)) {
        const int fd = socket_.native_handle();
        const int one = 1;
        if (::setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one) != 0 ||
            ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &one, sizeof one) != 0 ||
            ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &one, sizeof one) != 0 ||
            ::setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &one, sizeof one) != 0)
            fail(std::string("TCP keepalive options: ") + std::strerror(errno));
        socket_.async_read_some(asio::buffer(byte_, 1), [this](error_code ec, std::size_t) {
            failed_at_ = steady::now();
            ended_ = ec;
        });
        connected_at_ = steady::now();
    }
    std::string name() const override { return "tcp_ka"; }
    bool ready() const override { return true; }
    outcome result() const override {
        outcome o{"tcp_ka"};
        if (ended_ && *ended_) {
            o.detected = true;
            o.at = failed_at_;
            o.silence = failed_at_ - connected_at_; // the peer never sent a byte
        }
        o.note = ended_ ? ended_->message() : "still open";
        return o;
    }

private:
    tcp::socket socket_;
    char byte_[1];
    steady::time_point connected_at_{}, failed_at_{};
    std::optional<error_code> ended_;
};

inline std::vector<std::unique_ptr<contender>> make_contenders(asio::io_context& ioc,
                                                               const peer_process& peer,
                                                               steady::duration budget,
                                                               bool with_tcp) {
    std::vector<std::unique_ptr<contender>> cs;
    cs.push_back(std::make_unique<session_contender>(ioc, peer.ws_port, budget, false));
    cs.push_back(std::make_unique<session_contender>(ioc, peer.ws_port, budget, true));
    cs.push_back(std::make_unique<beast_contender>(ioc, peer.ws_port, budget));
    cs.push_back(std::make_unique<zmq_contender>(peer.zmq_endpoint, budget));
    if (with_tcp)
        cs.push_back(std::make_unique<tcp_keepalive_contender>(ioc, peer.ws_port));
    return cs;
}

} // namespace precision
