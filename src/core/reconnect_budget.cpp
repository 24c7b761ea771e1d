#include <heartbeat/core/reconnect_budget.hpp>

#include <algorithm>

namespace heartbeat {

reconnect_budget::reconnect_budget(reconnect_budget_config cfg)
    : config_(cfg), tokens_(cfg.burst) {}

duration reconnect_budget::reserve(time_point now) {
    std::lock_guard lock(mutex_);
    if (!started_) {
        started_ = true;
        last_ = now;
    }
    if (now > last_) {
        const double elapsed = std::chrono::duration<double>(now - last_).count();
        tokens_ = std::min(config_.burst, tokens_ + elapsed * config_.rate_per_second);
        last_ = now;
    }
    // Tokens may go negative: each waiter owns a future token and waits for it to accrue.
    tokens_ -= 1.0;
    if (tokens_ >= 0.0)
        return duration::zero();
    return std::chrono::duration_cast<duration>(
        std::chrono::duration<double>(-tokens_ / config_.rate_per_second));
}

reconnect_budget& reconnect_budget::process_wide() {
    static reconnect_budget instance;
    return instance;
}

} // namespace heartbeat
