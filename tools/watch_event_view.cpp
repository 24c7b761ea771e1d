#include "watch_event_view.hpp"

#include <heartbeat/core/error.hpp>

#include <cstdio>

namespace heartbeat::cli {
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

std::optional<event_line> watch_event_view::translate(const client_event& e) {
    switch (e.kind) {
    case client_event_kind::connecting:
        endpoint_ = e.endpoint;
        state_ = peer_state::connecting;
        if (format_ == output_format::json)
            return std::nullopt;
        return event_line("connecting")
            .subject("endpoint", e.endpoint)
            .field("attempt", e.attempt)
            .summary("attempt " + std::to_string(e.attempt));
    case client_event_kind::connected:
        // The handshake is done; shown with the `alive` (connecting -> alive) that follows at
        // once, so the status line starts from a fresh state.
        endpoint_ = e.endpoint;
        awaiting_handshake_ = true;
        state_ = peer_state::connecting;
        missed_ = 0;
        last_rtt_ = srtt_ = duration::zero();
        return std::nullopt;
    case client_event_kind::alive: {
        const peer_state before = state_;
        state_ = peer_state::alive;
        missed_ = 0;
        if (awaiting_handshake_) {
            awaiting_handshake_ = false;
            return with_status(event_line("connected").subject("endpoint", e.endpoint));
        }
        if (before != peer_state::suspect)
            return std::nullopt;
        return with_status(event_line("alive").subject("endpoint", e.endpoint));
    }
    case client_event_kind::suspect:
        state_ = peer_state::suspect;
        missed_ = e.missed;
        return with_status(
            event_line("suspect").subject("endpoint", e.endpoint).field("missed", e.missed));
    case client_event_kind::rtt:
        last_rtt_ = e.rtt;
        srtt_ = e.srtt;
        return with_status(event_line("rtt")
                               .subject("endpoint", e.endpoint)
                               .field("rtt_us", to_us(e.rtt))
                               .field("srtt_us", to_us(e.srtt)));
    case client_event_kind::dead: {
        state_ = peer_state::dead;
        const unsigned missed = e.dead ? e.dead->missed : e.missed;
        const duration silence = e.dead ? e.dead->silence : duration::zero();
        const auto reason = e.dead ? e.dead->reason : e.reason;
        missed_ = missed;
        return event_line("dead")
            .subject("endpoint", e.endpoint)
            .field("reason", error_name(reason))
            .field("missed", missed)
            .field("silent_ms", to_ms(silence))
            .summary(std::string(error_name(reason)) + ": " + std::to_string(missed) +
                     " pongs missed, silent for " + std::to_string(to_ms(silence)) + " ms");
    }
    case client_event_kind::closed: {
        awaiting_handshake_ = false;
        state_ = peer_state::connecting;
        const std::string name = error_name(e.reason);
        auto line = event_line("closed").subject("endpoint", e.endpoint).field("reason", name);
        // No stable name (a TLS or WebSocket upgrade failure, say): the cause in words.
        if (name == "system_error") {
            line.field("detail", e.reason.message());
            return line.summary("reason " + name + " (" + e.reason.message() + ")");
        }
        return line.summary("reason " + name);
    }
    case client_event_kind::reconnecting:
        return event_line("reconnecting")
            .field("attempt", e.attempt)
            .field("delay_ms", to_ms(e.delay))
            .summary("every endpoint failed (attempt " + std::to_string(e.attempt) +
                     "); next attempt in " + std::to_string(to_ms(e.delay)) + " ms");
    case client_event_kind::failover:
        return event_line("failover")
            .subject("from", e.from)
            .field("to", e.to)
            .summary("-> " + e.to);
    case client_event_kind::failback:
        return event_line("failback")
            .subject("from", e.from)
            .field("to", e.to)
            .summary("-> " + e.to + " (it answered its probes again)");
    case client_event_kind::gave_up:
        return event_line("gave_up")
            .field("reason", error_name(e.reason))
            .summary(std::string("reason ") + error_name(e.reason) + "; not retrying");
    }
    return std::nullopt;
}

event_line watch_event_view::with_status(event_line e) const {
    if (format_ == output_format::text && e.summary().empty())
        e.summary(status());
    return e;
}

std::string watch_event_view::status() const {
    std::string s = to_string(state_);
    s.resize(9, ' ');
    s += "rtt " + (last_rtt_ > duration::zero() ? format_ms(last_rtt_) : std::string("-"));
    s += "  srtt " + (srtt_ > duration::zero() ? format_ms(srtt_) : std::string("-"));
    s += "  missed " + std::to_string(missed_);
    return s;
}

} // namespace heartbeat::cli
