#pragma once
// A token bucket shared by every client of a process (by default), so a thousand clients that
// lose the same server do not reconnect in one burst. Sans-io: reserve() says how long to wait.
#include <heartbeat/core/clock.hpp>

#include <mutex>

namespace heartbeat {

struct reconnect_budget_config {
    double rate_per_second = 50.0; // sustained connection attempts per second
    double burst = 20.0;           // attempts allowed at once after a quiet period
};

class reconnect_budget {
public:
    explicit reconnect_budget(reconnect_budget_config cfg = {});

    // Takes one token and returns how long the caller must wait before using it (zero when a
    // token was available). Tokens are reserved in order, so waits spread evenly at `rate`.
    // Thread-safe.
    duration reserve(time_point now);

    const reconnect_budget_config& config() const noexcept { return config_; }

    // The process-wide budget clients use unless given their own.
    static reconnect_budget& process_wide();

private:
    reconnect_budget_config config_;
    std::mutex mutex_;
    double tokens_;
    time_point last_{};
    bool started_ = false;
};

} // namespace heartbeat
