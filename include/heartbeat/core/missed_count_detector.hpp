#pragma once
// The default detector: suspect after one unanswered ping, dead after `max_missed` of them —
// but never before the silence budget has elapsed since the last sign of life, so an early
// (jittered) first ping cannot shorten the documented bound.
#include <heartbeat/core/failure_detector.hpp>

namespace heartbeat {

class missed_count_detector final : public failure_detector {
public:
    missed_count_detector(unsigned max_missed, duration silence_budget) noexcept
        : max_missed_(max_missed), budget_(silence_budget) {}

    void record_alive(time_point now) override {
        missed_ = 0;
        last_alive_ = now;
    }
    void record_missed(time_point) override { ++missed_; }
    void forgive(duration lag) override { last_alive_ += lag; }
    health assess(time_point now) const override {
        if (missed_ == 0)
            return health::alive;
        if (missed_ >= max_missed_ && now >= last_alive_ + budget_)
            return health::dead;
        return health::suspect;
    }
    time_point next_change(time_point now) const override {
        if (missed_ >= max_missed_ && now < last_alive_ + budget_)
            return last_alive_ + budget_;
        return time_point::max();
    }
    void reset(time_point now) override { record_alive(now); }

    // The adaptive pong timeout changes the budget as RTT samples arrive.
    void set_budget(duration budget) noexcept { budget_ = budget; }
    unsigned missed() const noexcept { return missed_; }

private:
    unsigned max_missed_;
    duration budget_;
    unsigned missed_ = 0;
    time_point last_alive_{};
};

} // namespace heartbeat
