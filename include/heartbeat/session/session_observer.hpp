#pragma once
// What a session tells the outside world besides its callbacks and events: its metrics series
// (config.metrics) and its log records (config.log). The session core calls it after every
// heartbeat-monitor step, when the handshake is done and when the run ends.
//
// The heartbeat path (after_step) allocates nothing and takes no lock: the series was resolved
// once, here, when the session was built; a step only adds the monitor's counter deltas and
// observes the round trip with relaxed atomics. Log records are made on state changes only.
#include <heartbeat/core/config.hpp>
#include <heartbeat/core/error.hpp>
#include <heartbeat/core/heartbeat_monitor.hpp>
#include <heartbeat/core/log_sink.hpp>
#include <heartbeat/metrics/registry.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace heartbeat::detail {

inline metrics::endpoint_state metrics_state_of(peer_state s) noexcept {
    switch (s) {
    case peer_state::connecting:
        return metrics::endpoint_state::connecting;
    case peer_state::alive:
        return metrics::endpoint_state::alive;
    case peer_state::suspect:
        return metrics::endpoint_state::suspect;
    case peer_state::dead:
        return metrics::endpoint_state::dead;
    }
    return metrics::endpoint_state::unknown;
}

class session_observer {
public:
    // `config` (a session config: metrics, metrics_labels, log) outlives the observer and keeps
    // the registry, hence the series, alive.
    template <class Config>
    session_observer(const Config& config, const char* protocol)
        : log_(config.log), labels_(config.metrics_labels.get()),
          protocol_(labels_ && !labels_->protocol.empty() ? labels_->protocol.c_str() : protocol) {
        if (!config.metrics)
            return;
        metrics::series_labels labels = labels_ ? *labels_ : metrics::series_labels{};
        if (labels.protocol.empty())
            labels.protocol = protocol;
        series_ = &config.metrics->resolve(labels);
        // Several sessions of one peer share a server series: a state would be meaningless.
        tracks_state_ = labels.role != "server";
        window_factor_ = static_cast<float>(config.metrics->options().suspicious_window_factor);
    }

    // The run begins (the protocol's handshake starts).
    void started() {
        if (series_ && tracks_state_)
            series_->set_state(metrics::endpoint_state::connecting);
    }

    // The handshake is done: the session counts as open until it ends.
    void opened() {
        if (series_ && !open_) {
            open_ = true;
            series_->session_opened();
        }
    }

    // After every monitor step; the heartbeat path.
    void after_step(const monitor_step& step, peer_state before, const heartbeat_monitor& monitor,
                    time_point now) {
        if (series_)
            record(step, monitor, now);
        if (step.state_changed && log_)
            log_state(step, before, monitor);
    }

    // The run ended with `reason`; `state` is the monitor's last state.
    void ended(const boost::system::error_code& reason, peer_state state) {
        if (series_) {
            if (open_)
                series_->session_closed();
            open_ = false;
            series_->count_verdict(error_name(reason));
            if (tracks_state_ && state != peer_state::dead)
                series_->set_state(metrics::endpoint_state::closed);
        }
        if (log_) {
            const std::string text = reason.message();
            log_to(log_, log_level::info, "closed",
                   {{"role", role()},
                    {"protocol", protocol_},
                    {"endpoint", labels_ ? labels_->endpoint : std::string_view()},
                    {"peer", labels_ ? labels_->peer : std::string_view()},
                    {"reason", error_name(reason)},
                    {"detail", text}});
        }
    }

    // The config was refused at async_run: which field, its value, and why.
    static void invalid_config(const log_sink& log, const config_error& e) {
        log_to(log, log_level::error, "invalid config",
               {{"field", e.field}, {"value", e.value}, {"reason", e.reason}});
    }

private:
    std::string_view role() const noexcept {
        return labels_ ? std::string_view(labels_->role) : std::string_view("client");
    }

    void record(const monitor_step& step, const heartbeat_monitor& monitor,
                time_point now) noexcept {
        const monitor_counters& c = monitor.counters();
        if (c.pings_sent != seen_pings_)
            series_->add_pings_sent(c.pings_sent - seen_pings_);
        if (c.pongs_received != seen_pongs_)
            series_->add_pongs_received(c.pongs_received - seen_pongs_);
        if (c.misses != seen_misses_)
            series_->add_pongs_missed(c.misses - seen_misses_);
        seen_pings_ = c.pings_sent;
        seen_pongs_ = c.pongs_received;
        seen_misses_ = c.misses;
        if (step.rtt) {
            series_->observe_rtt(*step.rtt);
            if (!answered_) {
                answered_ = true;
                series_->first_pong(now);
            }
        }
        if (step.state_changed && tracks_state_)
            series_->set_state(metrics_state_of(step.state));
        if (step.dead) {
            const auto window =
                std::chrono::duration_cast<duration>(monitor.budget() * double{window_factor_});
            series_->observe_detection(step.dead->silence, now, window);
        }
    }

    void log_state(const monitor_step& step, peer_state before, const heartbeat_monitor& monitor) {
        const char* what = to_string(step.state);
        if (before == peer_state::connecting && step.state == peer_state::alive)
            what = "connected";
        const std::string missed = std::to_string(monitor.missed());
        std::string silence;
        if (step.dead)
            silence = config_value_text(step.dead->silence);
        log_to(log_, step.dead ? log_level::warning : log_level::info, what,
               {{"role", role()},
                {"protocol", protocol_},
                {"endpoint", labels_ ? labels_->endpoint : std::string_view()},
                {"peer", labels_ ? labels_->peer : std::string_view()},
                {"from", to_string(before)},
                {"to", to_string(step.state)},
                {"missed", missed},
                {"silence", silence}});
    }

    // Kept small: every session has one, metrics on or off.
    const log_sink& log_;
    const metrics::series_labels* labels_; // the config's; null: role client, no endpoint/peer
    const char* protocol_;
    metrics::series* series_ = nullptr;                               // null: metrics off
    std::uint64_t seen_pings_ = 0, seen_pongs_ = 0, seen_misses_ = 0; // already added
    float window_factor_ = 2.0f;
    bool tracks_state_ = true;
    bool open_ = false;
    bool answered_ = false; // a pong of this session was seen
};

} // namespace heartbeat::detail
