#include "endpoint_watcher.hpp"

#include <heartbeat/error.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>

namespace heartbeat::cli {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::int64_t to_us(duration d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

std::int64_t to_ms(duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

std::string format_ms(duration d) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f ms", static_cast<double>(to_us(d)) / 1000.0);
    return buf;
}

} // namespace

endpoint_watcher::endpoint_watcher(asio::io_context& ioc, std::string endpoint, host_port target,
                                   session_config config, event_writer& out)
    : endpoint_(std::move(endpoint)), target_(std::move(target)), config_(std::move(config)),
      out_(out), resolver_(ioc), socket_(ioc), connect_timer_(ioc), retry_timer_(ioc) {}

asio::awaitable<void> endpoint_watcher::run() {
    while (!stopping_) {
        auto ec = co_await connect();
        if (stopping_ && ec)
            break; // our own shutdown aborted the attempt: nothing happened worth reporting
        if (!ec)
            ec = co_await run_session();
        state_ = peer_state::connecting;
        emit(event_line("closed")
                 .subject("endpoint", endpoint_)
                 .field("reason", error_name(ec))
                 .summary(std::string("reason ") + error_name(ec) +
                          (stopping_ ? "" : ", retrying in 1 s")));
        if (stopping_)
            break;
        retry_timer_.expires_after(retry_delay);
        co_await retry_timer_.async_wait(
            asio::bind_cancellation_slot(cancel_.slot(), asio::as_tuple(asio::use_awaitable)));
    }
    finished_ = true;
}

asio::awaitable<boost::system::error_code> endpoint_watcher::connect() {
    // Resolved on every attempt: the name may point somewhere else by the time we retry.
    auto [ec, results] = co_await resolver_.async_resolve(
        target_.host, std::to_string(target_.port), tcp::resolver::numeric_service,
        asio::as_tuple(asio::use_awaitable));
    if (ec || stopping_)
        co_return ec ? ec : asio::error::operation_aborted;

    connect_timed_out_ = false;
    connect_timer_.expires_after(connect_timeout);
    connect_timer_.async_wait([this](boost::system::error_code tec) {
        if (!tec) {
            connect_timed_out_ = true;
            cancel_.emit(asio::cancellation_type::terminal);
        }
    });
    auto [cec, ep] = co_await asio::async_connect(
        socket_, results,
        asio::bind_cancellation_slot(cancel_.slot(), asio::as_tuple(asio::use_awaitable)));
    connect_timer_.cancel();
    if (cec == asio::error::operation_aborted && connect_timed_out_ && !stopping_)
        cec = error::connect_timeout;
    if (!cec && stopping_) {
        boost::system::error_code ignored;
        socket_.close(ignored);
        cec = asio::error::operation_aborted;
    }
    co_return cec;
}

asio::awaitable<boost::system::error_code> endpoint_watcher::run_session() {
    state_ = peer_state::connecting;
    missed_ = 0;
    last_rtt_ = srtt_ = duration::zero();
    session_ = std::make_unique<tcp_session>(std::move(socket_), config_, make_callbacks());
    auto [ec] = co_await session_->async_run(asio::as_tuple(asio::use_awaitable));
    session_.reset();
    co_return ec;
}

session_callbacks endpoint_watcher::make_callbacks() {
    session_callbacks cb;
    cb.on_state_change = [this](peer_state from, peer_state to, unsigned missed) {
        state_ = to;
        missed_ = missed;
        if (from == peer_state::connecting && to == peer_state::alive)
            emit(event_line("connected").subject("endpoint", endpoint_));
        else if (to == peer_state::suspect)
            emit(event_line("suspect").subject("endpoint", endpoint_).field("missed", missed));
        else if (from == peer_state::suspect && to == peer_state::alive)
            emit(event_line("alive").subject("endpoint", endpoint_));
        // -> dead is reported by on_verdict, which carries the reason and the silence.
    };
    cb.on_rtt = [this](duration rtt, const rtt_estimator& estimator) {
        last_rtt_ = rtt;
        srtt_ = estimator.srtt();
        emit(event_line("rtt")
                 .subject("endpoint", endpoint_)
                 .field("rtt_us", to_us(rtt))
                 .field("srtt_us", to_us(srtt_)));
    };
    cb.on_verdict = [this](const verdict& v) {
        state_ = peer_state::dead;
        missed_ = v.missed;
        emit(event_line("dead")
                 .subject("endpoint", endpoint_)
                 .field("reason", error_name(v.reason))
                 .field("missed", v.missed)
                 .field("silent_ms", to_ms(v.silence))
                 .summary(std::string(error_name(v.reason)) + ": " + std::to_string(v.missed) +
                          " pongs missed, silent for " + std::to_string(to_ms(v.silence)) + " ms"));
    };
    if (out_.format() == output_format::text) {
        cb.on_local_stall = [this](duration lag) {
            emit(
                event_line("local_stall")
                    .subject("endpoint", endpoint_)
                    .summary("this process stalled for " + format_ms(lag) + "; verdict postponed"));
        };
    }
    return cb;
}

void endpoint_watcher::emit(event_line e) {
    if (out_.format() == output_format::text && e.summary().empty())
        e.summary(status());
    out_.emit(e);
}

std::string endpoint_watcher::status() const {
    std::string s = to_string(state_);
    s.resize(9, ' ');
    s += "rtt " + (last_rtt_ > duration::zero() ? format_ms(last_rtt_) : std::string("-"));
    s += "  srtt " + (srtt_ > duration::zero() ? format_ms(srtt_) : std::string("-"));
    s += "  missed " + std::to_string(missed_);
    return s;
}

void endpoint_watcher::stop() {
    if (stopping_)
        return;
    stopping_ = true;
    resolver_.cancel();
    cancel_.emit(asio::cancellation_type::terminal);
    if (session_)
        session_->close();
}

} // namespace heartbeat::cli
