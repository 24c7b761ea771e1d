#include <heartbeat/core/peer_monitor_table.hpp>

#include <chrono>
#include <limits>

namespace heartbeat {

namespace {

constexpr std::int64_t max_ticks = std::numeric_limits<std::int32_t>::max();

std::int64_t whole_ms(duration d) {
    return std::chrono::duration_cast<milliseconds>(d).count();
}

std::optional<config_error> fail(const char* field, const char* reason) {
    return config_error{field, reason};
}

} // namespace

std::optional<config_error> peer_monitor_table::validate(const monitor_config& c) {
    if (auto e = heartbeat::validate(c))
        return e;
    if (c.detector != detector_kind::missed_count)
        return fail("monitor_config.detector", "must be missed_count for peer_monitor_table");
    if (c.adaptive_pong_timeout)
        return fail("monitor_config.adaptive_pong_timeout",
                    "must be false for peer_monitor_table (it keeps no RTT estimator)");
    if (c.max_missed > 255)
        return fail("monitor_config.max_missed", "must be <= 255 for peer_monitor_table");
    for (auto [field, d] : {std::pair{"monitor_config.interval", c.interval},
                            std::pair{"monitor_config.pong_timeout", c.pong_timeout}}) {
        if (d < tick_length || d % tick_length != duration::zero())
            return fail(field, "must be a whole number of milliseconds >= 1 ms for "
                               "peer_monitor_table");
    }
    if (c.stall_tolerance % tick_length != duration::zero())
        return fail("monitor_config.stall_tolerance",
                    "must be a whole number of milliseconds for peer_monitor_table");
    const double longest_interval = static_cast<double>(whole_ms(c.interval)) * (1.0 + c.jitter);
    const double budget =
        static_cast<double>(whole_ms(c.interval)) +
        static_cast<double>(c.max_missed) * static_cast<double>(whole_ms(c.pong_timeout));
    if (longest_interval + budget >= static_cast<double>(max_ticks) ||
        whole_ms(c.stall_tolerance) >= max_ticks)
        return fail("monitor_config.interval",
                    "interval * (1 + jitter) + silence budget must stay under 2^31 ms for "
                    "peer_monitor_table");
    return std::nullopt;
}

static const monitor_config& checked(const monitor_config& c) {
    if (auto e = peer_monitor_table::validate(c))
        throw std::invalid_argument(e->message());
    return c;
}

peer_monitor_table::peer_monitor_table(const monitor_config& config, std::size_t capacity,
                                       time_point origin, std::uint64_t jitter_seed)
    : peers_(capacity), wheel_(capacity), origin_(origin),
      interval_(static_cast<std::uint32_t>(whole_ms(checked(config).interval))),
      pong_timeout_(static_cast<std::uint32_t>(whole_ms(config.pong_timeout))),
      budget_(static_cast<std::uint32_t>(whole_ms(silence_budget(config)))),
      stall_tolerance_(static_cast<std::uint32_t>(whole_ms(config.stall_tolerance))),
      max_missed_(static_cast<std::uint8_t>(config.max_missed)), jitter_(config.jitter),
      liveness_(config.liveness), rng_state_(jitter_seed) {
    if (capacity >= no_peer)
        throw std::invalid_argument("peer_monitor_table: capacity must be below 2^32 - 1");
    // Unused records form a free list through `anchor`, lowest id first.
    for (std::size_t i = capacity; i-- > 0;) {
        peers_[i].anchor = free_head_;
        free_head_ = static_cast<std::uint32_t>(i);
    }
}

std::uint32_t peer_monitor_table::jittered_interval() noexcept {
    if (jitter_ <= 0.0)
        return interval_;
    // splitmix64: one multiply-xorshift step per draw, no state beyond 8 bytes per table.
    std::uint64_t z = (rng_state_ += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    z ^= z >> 31;
    const double u = static_cast<double>(z >> 11) * 0x1.0p-53;
    const double factor = 1.0 + jitter_ * (2.0 * u - 1.0);
    const auto ticks = static_cast<std::uint32_t>(static_cast<double>(interval_) * factor);
    return ticks == 0 ? 1 : ticks;
}

std::optional<peer_monitor_table::peer_id> peer_monitor_table::add(time_point now) {
    if (free_head_ == no_peer)
        return std::nullopt;
    const peer_id id = free_head_;
    peer_record& p = peers_[id];
    free_head_ = p.anchor;
    p = peer_record{};
    p.state = peer_record::alive;
    p.jittered_interval = jittered_interval();
    const timing_wheel::tick t = to_tick(now);
    // An empty wheel may lag the clock by any span; bring it up to date (nothing can fire) so
    // the new deadline is within its reach.
    if (size_ == 0 && t > wheel_.current())
        wheel_.advance(
            t - 1, [](timing_wheel::entry_id) { return timing_wheel::unscheduled; },
            [](timing_wheel::entry_id, timing_wheel::tick) {});
    proof_of_life(p, static_cast<std::uint32_t>(t));
    ++size_;
    auto ignore = [](const peer_action&) {};
    finish(id, p, t, now, ignore); // alive, nothing to report
    return id;
}

void peer_monitor_table::remove(peer_id id) noexcept {
    if (id >= peers_.size())
        return;
    peer_record& p = peers_[id];
    if (p.state == peer_record::unused)
        return;
    p = peer_record{}; // not scheduled: its copy in the wheel is now stale
    p.anchor = free_head_;
    free_head_ = id;
    --size_;
}

time_point peer_monitor_table::next_deadline(peer_id id) const noexcept {
    const peer_record& p = peers_[id];
    if (!p.monitored())
        return time_point::max();
    return origin_ + static_cast<std::int64_t>(widen(deadline(p), wheel_.current())) * tick_length;
}

time_point peer_monitor_table::last_heard(peer_id id) const noexcept {
    const peer_record& p = peers_[id];
    return origin_ +
           static_cast<std::int64_t>(widen(p.anchor - p.stalled, wheel_.current())) * tick_length;
}

std::size_t peer_monitor_table::footprint_bytes() const noexcept {
    return peers_.capacity() * sizeof(peer_record) + wheel_.footprint_bytes() + sizeof(*this) -
           sizeof(wheel_);
}

} // namespace heartbeat
