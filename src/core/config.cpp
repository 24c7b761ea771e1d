#include <heartbeat/core/config.hpp>

#include <charconv>
#include <cmath>

namespace heartbeat {
namespace {

std::optional<config_error> fail(const char* field, const char* reason) {
    return config_error{field, reason};
}

template <class Value>
std::optional<config_error> fail(const char* field, const Value& value, const char* reason) {
    return config_error{field, reason, config_value_text(value)};
}

} // namespace

std::string config_value_text(duration d) {
    using std::chrono::duration_cast;
    if (d % milliseconds(1) == duration::zero())
        return std::to_string(duration_cast<milliseconds>(d).count()) + "ms";
    if (d % microseconds(1) == duration::zero())
        return std::to_string(duration_cast<microseconds>(d).count()) + "us";
    return std::to_string(duration_cast<nanoseconds>(d).count()) + "ns";
}

std::string config_value_text(double v) {
    char buf[64];
    const auto r = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, r.ptr);
}

std::string config_value_text(std::uint64_t v) {
    return std::to_string(v);
}

std::optional<config_error> validate(const phi_accrual_config& c) {
    if (!(c.suspect_threshold > 0) || !std::isfinite(c.suspect_threshold))
        return fail("phi_accrual_config.suspect_threshold", "must be a finite number > 0");
    if (!(c.dead_threshold > c.suspect_threshold) || !std::isfinite(c.dead_threshold))
        return fail("phi_accrual_config.dead_threshold", "must be finite and > suspect_threshold");
    if (c.window_size < 2 || c.window_size > 100000)
        return fail("phi_accrual_config.window_size", "must be in [2, 100000]");
    if (c.min_std_deviation <= duration::zero())
        return fail("phi_accrual_config.min_std_deviation", "must be > 0");
    if (c.acceptable_pause < duration::zero())
        return fail("phi_accrual_config.acceptable_pause", "must be >= 0");
    if (c.first_interval_estimate <= duration::zero())
        return fail("phi_accrual_config.first_interval_estimate", "must be > 0");
    return std::nullopt;
}

std::optional<config_error> validate(const monitor_config& c) {
    if (c.interval <= duration::zero())
        return fail("monitor_config.interval", c.interval, "must be > 0");
    if (c.interval > std::chrono::hours(24))
        return fail("monitor_config.interval", c.interval, "must be <= 24h");
    if (!(c.jitter >= 0.0 && c.jitter <= 0.5))
        return fail("monitor_config.jitter", c.jitter, "must be in [0, 0.5]");
    if (c.pong_timeout <= duration::zero())
        return fail("monitor_config.pong_timeout", c.pong_timeout, "must be > 0");
    if (c.pong_timeout > std::chrono::hours(24))
        return fail("monitor_config.pong_timeout", c.pong_timeout, "must be <= 24h");
    if (c.max_missed < 1 || c.max_missed > 1000)
        return fail("monitor_config.max_missed", std::uint64_t{c.max_missed},
                    "must be in [1, 1000]");
    if (c.liveness != liveness_mode::any_inbound && c.liveness != liveness_mode::pong_only)
        return fail("monitor_config.liveness", "must be any_inbound or pong_only");
    if (c.adaptive_pong_timeout && c.pong_timeout_floor <= duration::zero())
        return fail("monitor_config.pong_timeout_floor", c.pong_timeout_floor,
                    "must be > 0 when adaptive_pong_timeout");
    if (c.stall_tolerance <= duration::zero())
        return fail("monitor_config.stall_tolerance", c.stall_tolerance, "must be > 0");
    if (c.detector != detector_kind::missed_count && c.detector != detector_kind::phi_accrual)
        return fail("monitor_config.detector", "must be missed_count or phi_accrual");
    if (c.detector == detector_kind::phi_accrual) {
        if (auto e = validate(c.phi)) {
            // "phi_accrual_config.X" -> "monitor_config.phi.X": the member path, not the type.
            e->field = "monitor_config.phi." + e->field.substr(e->field.find('.') + 1);
            return e;
        }
    }
    return std::nullopt;
}

std::optional<config_error> validate(const backoff_config& c) {
    if (c.initial <= duration::zero())
        return fail("backoff_config.initial", "must be > 0");
    if (!(c.multiplier >= 1.0) || !std::isfinite(c.multiplier))
        return fail("backoff_config.multiplier", "must be a finite number >= 1");
    if (!(c.jitter >= 0.0 && c.jitter < 1.0))
        return fail("backoff_config.jitter", "must be in [0, 1)");
    if (c.max < c.initial)
        return fail("backoff_config.max", "must be >= initial");
    if (c.mode != backoff_jitter::full && c.mode != backoff_jitter::proportional)
        return fail("backoff_config.mode", "must be full or proportional");
    if (c.reset_after < duration::zero())
        return fail("backoff_config.reset_after", "must be >= 0");
    return std::nullopt;
}

std::optional<config_error> validate(const endpoint_policy_config& c) {
    if (c.healthy_probes < 1)
        return fail("endpoint_policy_config.healthy_probes", "must be >= 1");
    if (c.min_dwell < duration::zero())
        return fail("endpoint_policy_config.min_dwell", "must be >= 0");
    return std::nullopt;
}

} // namespace heartbeat
