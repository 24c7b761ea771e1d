#pragma once
// Which endpoint the client supervisor should use: ordered failover across endpoints
// 0..n-1 (0 is the most preferred) and failback to a more preferred endpoint once it has proved
// healthy again. Sans-io: the supervisor reports what happened and asks what to do.
//
// Failover. A failure (connect failed, or an established session died) moves to the next
// endpoint in order, wrapping. A round is n consecutive failures with no successful connection
// in between: every endpoint has been tried once. The failure that completes a round sets
// round_exhausted() (the supervisor backs off before the next attempt) and sends current() back
// to endpoint 0, so each round after a back-off starts with the most preferred endpoint.
//
// Failback. While connected to endpoint k > 0, the supervisor probes the endpoints better than
// k (probe_target() cycles through them, most preferred first) and reports each result. Once an
// endpoint has `healthy_probes` consecutive healthy probes and the current endpoint has been in
// use for `min_dwell`, failback_target() names the most preferred such endpoint. The dwell keeps
// a flapping primary from dragging every client back and forth.
#include <heartbeat/core/clock.hpp>
#include <heartbeat/core/config.hpp>

#include <cstddef>
#include <optional>
#include <vector>

namespace heartbeat {

class endpoint_policy {
public:
    // Throws std::invalid_argument if endpoint_count is 0. Precondition: validate(cfg) found
    // nothing. The only allocation is here.
    endpoint_policy(std::size_t endpoint_count, endpoint_policy_config cfg);

    std::size_t endpoint_count() const noexcept { return healthy_.size(); }
    // The endpoint to connect to, or in use.
    std::size_t current() const noexcept { return current_; }
    // A connection to current() is established at `now`: the dwell starts, the failure round is
    // over and probe counts start over.
    void on_connected(time_point now);
    // current() failed to connect, or its session died. Returns the new current().
    std::size_t on_failure(time_point now);
    // The last failure completed a round: every endpoint failed since the last successful
    // connection (or since the previous round ended). Cleared by the next on_failure,
    // on_connected or on_failback.
    bool round_exhausted() const noexcept { return round_exhausted_; }
    // The endpoint to probe next while connected to a less preferred one; nullopt when on
    // endpoint 0, not connected, or failback is disabled.
    std::optional<std::size_t> probe_target() const noexcept;
    // Result of a probe of `endpoint`. Consecutive healthy results accumulate; an unhealthy one
    // starts the count over. Counts belong to one connection (they start over whenever a
    // connection is established), so results arriving while not connected, for endpoints not
    // better than current() (a probe that raced a switch) or out of range are ignored.
    void on_probe_result(std::size_t endpoint, bool healthy, time_point now);
    // The most preferred endpoint with at least `healthy_probes` consecutive healthy probes, once
    // current() has been in use for `min_dwell`; nullopt otherwise.
    std::optional<std::size_t> failback_target(time_point now) const;
    // When the dwell on the current endpoint ends (time_point::max() while not connected): the
    // earliest time failback_target() can name an endpoint.
    time_point failback_not_before() const noexcept;
    // The supervisor switched to `endpoint` at `now` (connected to it): it becomes current(),
    // the dwell restarts and every probe count starts over. Out-of-range endpoints are ignored.
    void on_failback(std::size_t endpoint, time_point now);

    // Consecutive healthy probes recorded for `endpoint` (0 when out of range).
    unsigned healthy_probes(std::size_t endpoint) const noexcept;
    bool connected() const noexcept { return connected_; }

private:
    void start_dwell(time_point now) noexcept;

    endpoint_policy_config cfg_;
    std::vector<unsigned> healthy_; // consecutive healthy probes, one per endpoint
    std::size_t current_ = 0;
    std::size_t failures_in_round_ = 0;
    bool round_exhausted_ = false;
    bool connected_ = false;
    time_point connected_since_{};
    std::size_t probe_cursor_ = 0; // next endpoint to probe, when better than current_
};

} // namespace heartbeat
