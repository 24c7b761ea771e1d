#pragma once
// Configuration aggregates. Every field has a documented default; `validate` names the first
// bad field so `invalid_config` errors say exactly what is wrong.
#include <heartbeat/core/clock.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

namespace heartbeat {

// What counts as proof that the peer is alive.
enum class liveness_mode {
    any_inbound, // any inbound frame resets the silence clock; ping only when quiet (default)
    pong_only,   // only pongs count: detects a peer whose transport answers but whose app is wedged
};

enum class detector_kind {
    missed_count, // dead after `max_missed` consecutive unanswered pings (default)
    phi_accrual,  // dead when phi of the inbound inter-arrival distribution passes a threshold
};

// Hayashibara et al., "The phi accrual failure detector" (2004), as tuned by Akka/Cassandra.
struct phi_accrual_config {
    double suspect_threshold = 3.0;                 // phi at which the peer becomes suspect
    double dead_threshold = 8.0;                    // phi at which the peer is declared dead
    std::size_t window_size = 200;                  // inter-arrival samples kept (fixed memory)
    duration min_std_deviation = milliseconds(100); // floor so a very regular peer is not
                                                    // declared dead by a tiny hiccup
    duration acceptable_pause = milliseconds(0);    // added to the mean: tolerated extra gap
    duration first_interval_estimate = seconds(1);  // prior mean before any sample
};

// Heartbeat monitor. Worst-case silence before a `peer_dead` verdict (missed-count detector,
// fixed pong timeout, pings written promptly) is
//     interval * (1 + jitter) + max_missed * pong_timeout
// and the verdict is never issued before `interval + max_missed * pong_timeout` of silence
// (the silence budget), not counting time our own process was stalled.
struct monitor_config {
    duration interval = seconds(2);     // inbound silence after which a ping is sent
    double jitter = 0.1;                // fraction: each quiet period is interval*(1±jitter)
    duration pong_timeout = seconds(2); // time after a ping is written for its reply
    unsigned max_missed = 3;            // consecutive unanswered pings => dead
    liveness_mode liveness = liveness_mode::any_inbound;
    bool adaptive_pong_timeout = false; // use max(pong_timeout_floor, srtt + 4*rttvar)
    duration pong_timeout_floor = milliseconds(200);
    duration stall_tolerance = milliseconds(250); // a timer this late means our process stalled
    detector_kind detector = detector_kind::missed_count;
    phi_accrual_config phi{};
    // While inbound traffic keeps the peer proven alive no idle ping is ever due, so without
    // this no round trip would be measured under load and the adaptive pong timeout would
    // starve. When set, one ping per `interval` still goes out while traffic flows; its pong
    // only measures the round trip (traffic already proves life). Where round trips are
    // measured otherwise (the native protocol's timed ACKs of our messages), no probe goes out
    // while they come at least once per interval.
    bool probe_rtt_under_traffic = true;
};

// Reconnect backoff. Defaults are gRPC's connection-backoff parameters.
enum class backoff_jitter {
    full,         // delay uniform in [0, base]: AWS "full jitter", spreads a fleet best (default)
    proportional, // delay = base * (1 ± jitter): gRPC's rule
};
struct backoff_config {
    duration initial = seconds(1);
    double multiplier = 1.6;
    double jitter = 0.2; // used by `proportional`
    duration max = seconds(120);
    backoff_jitter mode = backoff_jitter::full;
    duration reset_after = seconds(10); // a session that lived this long resets the backoff
};

// Failover across an ordered endpoint list and failback to a more preferred one.
struct endpoint_policy_config {
    bool failback = true;
    unsigned healthy_probes = 3;      // consecutive good probes before failing back
    duration min_dwell = seconds(10); // minimum time on the current endpoint before failback
};

// Names the first invalid field, e.g. {"monitor_config.interval", "must be > 0", "0ms"}; the
// value as found, when the check is about one field's value (empty otherwise). A session logs
// the three as fields of its "invalid config" record (log_sink).
struct config_error {
    config_error() = default;
    config_error(std::string field_, std::string reason_, std::string value_ = {})
        : field(std::move(field_)), reason(std::move(reason_)), value(std::move(value_)) {}

    std::string field;
    std::string reason;
    std::string value;
    std::string message() const {
        return "invalid_config: " + field + (value.empty() ? "" : " = " + value) + " " + reason;
    }
};

// How config values are written in config_error::value and in logs: "0ms", "1500ms", "250us",
// "3", "0.7".
std::string config_value_text(duration d);
std::string config_value_text(double v);
std::string config_value_text(std::uint64_t v);

std::optional<config_error> validate(const phi_accrual_config& c);
std::optional<config_error> validate(const monitor_config& c);
std::optional<config_error> validate(const backoff_config& c);
std::optional<config_error> validate(const endpoint_policy_config& c);

// Silence budget of a config: interval + max_missed * pong_timeout.
constexpr duration silence_budget(const monitor_config& c) noexcept {
    return c.interval + c.max_missed * c.pong_timeout;
}

} // namespace heartbeat
