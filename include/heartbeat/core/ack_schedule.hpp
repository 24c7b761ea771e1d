#pragma once
// When to acknowledge delivered messages (the native protocol's cumulative ACK, which lets the
// sender free its resend buffer). An ACK is cheap to piggyback on a write that goes out anyway,
// and costly alone, so: one ACK at once for every `batch` (64) messages delivered; otherwise the
// value rides on the next write, or goes alone once `delay` has passed without one. Sans-io.
#include <heartbeat/core/clock.hpp>

#include <cstdint>
#include <optional>

namespace heartbeat {

class ack_schedule {
public:
    enum class action {
        none,     // nothing new, or a lone ACK is already scheduled
        send_now, // `batch` messages unacknowledged: write an ACK of take() now
        send_at,  // write an ACK of take() at due() unless a write carries it before
    };

    // One ACK at once per this many messages delivered.
    static constexpr std::uint64_t batch = 64;

    explicit ack_schedule(duration delay) noexcept : delay_(delay) {}

    // The handshake fixed the starting point: everything up to `delivered` is known to the peer
    // (or is acknowledged by the caller itself right now).
    void reset(std::uint64_t delivered) noexcept {
        delivered_ = sent_ = delivered;
        due_for_ = ~std::uint64_t{0};
    }

    // The application has taken every message up to `delivered`: a write that goes out from
    // now on may carry it (take()), even before schedule() decides about a lone ACK.
    void delivered(std::uint64_t delivered) noexcept { delivered_ = delivered; }

    // After the application took messages: whether an ACK must go now, later, or not at all.
    action schedule(time_point now) noexcept {
        if (delivered_ - sent_ >= batch)
            return action::send_now;
        if (delivered_ != sent_ && due_for_ != sent_) {
            due_for_ = sent_; // one deadline per acknowledged value, not one per message
            due_ = now + delay_;
            return action::send_at;
        }
        return action::none;
    }

    action on_delivered(std::uint64_t delivered_up_to, time_point now) noexcept {
        delivered(delivered_up_to);
        return schedule(now);
    }

    bool pending() const noexcept { return delivered_ != sent_; }
    // When a lone ACK must go; meaningful while pending().
    time_point due() const noexcept { return due_; }
    bool due_by(time_point now) const noexcept { return pending() && now >= due_; }

    // The value to write now (piggybacked or alone); marks it sent. nullopt when nothing is new.
    std::optional<std::uint64_t> take() noexcept {
        if (!pending())
            return std::nullopt;
        sent_ = delivered_;
        return sent_;
    }

    std::uint64_t delivered() const noexcept { return delivered_; }
    std::uint64_t sent() const noexcept { return sent_; }

private:
    duration delay_;
    std::uint64_t delivered_ = 0;
    std::uint64_t sent_ = 0;
    std::uint64_t due_for_ = ~std::uint64_t{0}; // sent_ when due_ was set
    time_point due_{};
};

} // namespace heartbeat
