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
    // the registry, hence the series, alive. With neither metrics nor a log sink the observer is
    // one null pointer: idle sessions pay 8 bytes for it.
    template <class Config>
    session_observer(const Config& config, const char* protocol) {
        if (!config.metrics && !config.log)
            return;
        state_ = std::make_unique<observing>(config.log, config.metrics_labels.get(), protocol);
        if (!config.metrics)
            return;
        metrics::series_labels labels = state_->labels ? *state_->labels : metrics::series_labels{};
        if (labels.protocol.empty())
            labels.protocol = protocol;
        state_->series = &config.metrics->resolve(labels);
        // Several sessions of one peer share a server series: a state would be meaningless.
        state_->tracks_state = labels.role != "server";
        state_->window_factor =
            static_cast<float>(config.metrics->options().suspicious_window_factor);
    }

    // The run begins (the protocol's handshake starts).
    void started() {
        if (state_ && state_->series && state_->tracks_state)
            state_->series->set_state(metrics::endpoint_state::connecting);
    }

    // The handshake is done: the session counts as open until it ends.
    void opened() {
        if (state_ && state_->series && !state_->open) {
            state_->open = true;
            state_->series->session_opened();
        }
    }

    // After every monitor step; the heartbeat path.
    void after_step(const monitor_step& step, peer_state before, const heartbeat_monitor& monitor,
                    time_point now) {
        if (!state_)
            return;
        if (state_->series)
            state_->record(step, monitor, now);
        if (step.state_changed && state_->log)
            state_->log_state(step, before, monitor);
    }

    // The run ended with `reason`; `state` is the monitor's last state.
    void ended(const boost::system::error_code& reason, peer_state state) {
        if (state_)
            state_->ended(reason, state);
    }

    // The config was refused at async_run: which field, its value, and why.
    static void invalid_config(const log_sink& log, const config_error& e) {
        log_to(log, log_level::error, "invalid config",
               {{"field", e.field}, {"value", e.value}, {"reason", e.reason}});
    }

private:
    struct observing {
        observing(const log_sink& sink, const metrics::series_labels* l, const char* protocol)
            : log(sink), labels(l),
              protocol(labels && !labels->protocol.empty() ? labels->protocol.c_str() : protocol) {}

        std::string_view role() const noexcept {
            return labels ? std::string_view(labels->role) : std::string_view("client");
        }

        void record(const monitor_step& step, const heartbeat_monitor& monitor,
                    time_point now) noexcept {
            const monitor_counters& c = monitor.counters();
            if (c.pings_sent != seen_pings)
                series->add_pings_sent(c.pings_sent - seen_pings);
            if (c.pongs_received != seen_pongs)
                series->add_pongs_received(c.pongs_received - seen_pongs);
            if (c.misses != seen_misses)
                series->add_pongs_missed(c.misses - seen_misses);
            seen_pings = c.pings_sent;
            seen_pongs = c.pongs_received;
            seen_misses = c.misses;
            if (step.rtt) {
                series->observe_rtt(*step.rtt);
                if (!answered) {
                    answered = true;
                    series->first_pong(now);
                }
            }
            if (step.state_changed && tracks_state)
                series->set_state(metrics_state_of(step.state));
            if (step.dead) {
                const auto window =
                    std::chrono::duration_cast<duration>(monitor.budget() * double{window_factor});
                series->observe_detection(step.dead->silence, now, window);
            }
        }

        void log_state(const monitor_step& step, peer_state before,
                       const heartbeat_monitor& monitor) {
            const char* what = to_string(step.state);
            if (before == peer_state::connecting && step.state == peer_state::alive)
                what = "connected";
            const std::string missed = std::to_string(monitor.missed());
            std::string silence;
            if (step.dead)
                silence = config_value_text(step.dead->silence);
            log_to(log, step.dead ? log_level::warning : log_level::info, what,
                   {{"role", role()},
                    {"protocol", protocol},
                    {"endpoint", labels ? labels->endpoint : std::string_view()},
                    {"peer", labels ? labels->peer : std::string_view()},
                    {"from", to_string(before)},
                    {"to", to_string(step.state)},
                    {"missed", missed},
                    {"silence", silence}});
        }

        void ended(const boost::system::error_code& reason, peer_state state) {
            if (series) {
                if (open)
                    series->session_closed();
                open = false;
                series->count_verdict(error_name(reason));
                if (tracks_state && state != peer_state::dead)
                    series->set_state(metrics::endpoint_state::closed);
            }
            if (log) {
                const std::string text = reason.message();
                log_to(log, log_level::info, "closed",
                       {{"role", role()},
                        {"protocol", protocol},
                        {"endpoint", labels ? labels->endpoint : std::string_view()},
                        {"peer", labels ? labels->peer : std::string_view()},
                        {"reason", error_name(reason)},
                        {"detail", text}});
            }
        }

        const log_sink& log;
        const metrics::series_labels* labels; // the config's; null: role client, no labels
        const char* protocol;
        metrics::series* series = nullptr;                             // null: metrics off
        std::uint64_t seen_pings = 0, seen_pongs = 0, seen_misses = 0; // already added
        float window_factor = 2.0f;
        bool tracks_state = true;
        bool open = false;
        bool answered = false; // a pong of this session was seen
    };

    std::unique_ptr<observing> state_; // null: neither metrics nor log
};

} // namespace heartbeat::detail
