#include <heartbeat/core/endpoint_policy.hpp>

#include <algorithm>
#include <limits>
#include <stdexcept>

namespace heartbeat {

endpoint_policy::endpoint_policy(std::size_t endpoint_count, endpoint_policy_config cfg)
    : cfg_(cfg) {
    if (endpoint_count == 0)
        throw std::invalid_argument("endpoint_policy: endpoint_count must be >= 1");
    healthy_.assign(endpoint_count, 0);
}

void endpoint_policy::start_dwell(time_point now) noexcept {
    connected_ = true;
    connected_since_ = now;
    failures_in_round_ = 0;
    round_exhausted_ = false;
    std::fill(healthy_.begin(), healthy_.end(), 0u);
    probe_cursor_ = 0;
}

void endpoint_policy::on_connected(time_point now) {
    start_dwell(now);
}

std::size_t endpoint_policy::on_failure(time_point) {
    connected_ = false;
    ++failures_in_round_;
    if (failures_in_round_ >= healthy_.size()) {
        round_exhausted_ = true;
        failures_in_round_ = 0;
        current_ = 0;
    } else {
        round_exhausted_ = false;
        current_ = (current_ + 1) % healthy_.size();
    }
    return current_;
}

std::optional<std::size_t> endpoint_policy::probe_target() const noexcept {
    if (!cfg_.failback || !connected_ || current_ == 0)
        return std::nullopt;
    return probe_cursor_ < current_ ? probe_cursor_ : 0;
}

void endpoint_policy::on_probe_result(std::size_t endpoint, bool healthy, time_point) {
    if (!connected_ || endpoint >= current_)
        return;
    unsigned& count = healthy_[endpoint];
    if (!healthy)
        count = 0;
    else if (count != std::numeric_limits<unsigned>::max())
        ++count;
    probe_cursor_ = endpoint + 1 < current_ ? endpoint + 1 : 0;
}

time_point endpoint_policy::failback_not_before() const noexcept {
    if (!connected_)
        return time_point::max();
    if (cfg_.min_dwell > duration::zero() && connected_since_ > time_point::max() - cfg_.min_dwell)
        return time_point::max();
    return connected_since_ + cfg_.min_dwell;
}

std::optional<std::size_t> endpoint_policy::failback_target(time_point now) const {
    if (!cfg_.failback || !connected_ || current_ == 0 || now < failback_not_before())
        return std::nullopt;
    for (std::size_t e = 0; e < current_; ++e) {
        if (healthy_[e] >= cfg_.healthy_probes)
            return e;
    }
    return std::nullopt;
}

void endpoint_policy::on_failback(std::size_t endpoint, time_point now) {
    if (endpoint >= healthy_.size())
        return;
    current_ = endpoint;
    start_dwell(now);
}

unsigned endpoint_policy::healthy_probes(std::size_t endpoint) const noexcept {
    return endpoint < healthy_.size() ? healthy_[endpoint] : 0;
}

} // namespace heartbeat
