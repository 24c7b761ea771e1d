#include <heartbeat/client/failback_probation.hpp>

#include <heartbeat/core/saturating_time.hpp>

#include <algorithm>

namespace heartbeat {

failback_probation::failback_probation(duration probe_interval, duration drain_timeout) noexcept
    : probe_interval_(probe_interval), drain_timeout_(drain_timeout) {}

void failback_probation::start(time_point now) noexcept {
    next_probe_ = saturating_add(now, probe_interval_);
    probe_.reset();
    switch_to_.reset();
    drain_deadline_ = {};
    drained_ = false;
}

void failback_probation::evaluate(time_point now, const endpoint_policy& policy,
                                  std::vector<supervisor::action>& out) {
    if (switch_to_)
        return;
    const auto target = policy.probe_target(); // nullopt: failback does not apply here
    if (!target)
        return;
    if (const auto to = policy.failback_target(now)) {
        switch_to_ = *to;
        drain_deadline_ = saturating_add(now, drain_timeout_);
        out.push_back(supervisor::drain_and_switch{*to});
        return;
    }
    if (!probe_ && now >= next_probe_) {
        probe_ = probe_out{++last_probe_id_, *target};
        out.push_back(supervisor::start_probe{*target, probe_->id});
        next_probe_ = saturating_add(now, probe_interval_);
    }
}

std::optional<std::size_t> failback_probation::take_probe_result(std::uint64_t probe) noexcept {
    if (!probe_ || probe_->id != probe)
        return std::nullopt;
    const std::size_t endpoint = probe_->endpoint;
    probe_.reset();
    return endpoint;
}

bool failback_probation::drain_over(time_point now) const noexcept {
    return switch_to_ && (drained_ || now >= drain_deadline_);
}

time_point failback_probation::next_wake(time_point now,
                                         const endpoint_policy& policy) const noexcept {
    if (switch_to_)
        return drained_ ? time_point::max() : drain_deadline_;
    if (!policy.probe_target())
        return time_point::max();
    time_point wake = probe_ ? time_point::max() : next_probe_;
    // After the dwell only a probe result can make a failback target: no wake-up for it.
    if (const time_point dwell_end = policy.failback_not_before(); dwell_end > now)
        wake = std::min(wake, dwell_end);
    return wake;
}

} // namespace heartbeat
