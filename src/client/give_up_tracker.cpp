#include <heartbeat/client/give_up_tracker.hpp>

#include <heartbeat/core/error.hpp>

namespace heartbeat {

give_up_tracker::give_up_tracker(give_up_rule rule, std::size_t endpoint_count) noexcept
    : rule_(rule), endpoint_count_(endpoint_count) {}

void give_up_tracker::start(time_point now) noexcept {
    without_session_since_ = now;
}

void give_up_tracker::on_session_ended(time_point now) noexcept {
    failed_in_a_row_ = 0;
    without_session_since_ = now;
}

std::optional<boost::system::error_code>
give_up_tracker::on_attempt_ended(const boost::system::error_code& reason, bool established,
                                  time_point now) {
    if (established)
        on_session_ended(now);
    if (is_fatal(reason)) {
        ++fatal_in_a_row_;
        if (reason == error::invalid_config || fatal_in_a_row_ >= endpoint_count_)
            return reason;
    } else {
        fatal_in_a_row_ = 0;
    }
    if (established)
        return std::nullopt;
    ++failed_in_a_row_;
    const bool too_many = rule_.max_attempts != 0 && failed_in_a_row_ >= rule_.max_attempts;
    const bool down_too_long =
        rule_.max_downtime > duration::zero() && now - without_session_since_ >= rule_.max_downtime;
    if (too_many || down_too_long)
        return boost::system::error_code(error::all_endpoints_failed);
    return std::nullopt;
}

void give_up_tracker::on_failback(bool established, time_point now) noexcept {
    if (!established)
        return;
    on_session_ended(now);
    fatal_in_a_row_ = 0;
}

} // namespace heartbeat
