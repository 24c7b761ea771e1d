#pragma once
// The heartbeat monitor: all heartbeat policy as a sans-io state machine. It never reads a
// clock or touches a socket; the driver feeds it events with the time they happened and
// performs what each step asks for (write a ping, arm a timer for next_deadline(), report a
// state change or verdict).
//
// States: connecting -> alive <-> suspect -> dead.
//
// Rules (missed-count detector, the default):
//  * After `interval` (jittered by ±jitter, resampled every ping) without proof of life, a ping
//    is requested. Proof of life is any inbound frame (liveness_mode::any_inbound) or only a
//    pong (liveness_mode::pong_only).
//  * A ping's reply deadline is `pong_timeout` after the driver reports it written
//    (on_ping_written); a ping still unwritten `pong_timeout` after it was requested counts as
//    missed too, since a transport that cannot carry a ping that long is as good as dead.
//  * A missed deadline makes the peer suspect and immediately requests the next ping, so a
//    silent peer is re-pinged every `pong_timeout`.
//  * After `max_missed` consecutive misses the verdict is `peer_dead`, but never before
//    `interval + max_missed * pong_timeout` (the silence budget) has passed since the last proof
//    of life. A frozen peer is therefore declared dead after a silence in
//    [budget, budget + jitter * interval] plus however late the pings were written.
//  * Write stall: a ping requested but not yet written (on_ping_written) for the silence budget
//    is a verdict with reason write_stalled, whatever the peer sends meanwhile: a peer that
//    talks but never reads (its receive window closed) would otherwise stay "alive" under
//    liveness any_inbound while nothing of ours, heartbeats included, can reach it.
//  * RTT probe (probe_rtt_under_traffic): while traffic other than pongs keeps the peer proven
//    alive, a ping is still requested `interval` after the previous one, so round trips are
//    measured under load; at most one per interval, however the peer answers, and none while
//    round trips are measured otherwise (on_rtt_sample: timed ACKs of numbered messages).
//  * Local-stall guard: if on_timer is called more than `stall_tolerance` after the deadline
//    it was armed for, our own process was stalled (blocked event loop, GC pause of a host VM,
//    SIGSTOP). Every deadline is extended by the lag, the stalled time is excluded from the
//    silence budget, and a fresh ping is requested instead of a verdict.
#include <heartbeat/core/config.hpp>
#include <heartbeat/core/failure_detector.hpp>
#include <heartbeat/core/missed_count_detector.hpp>
#include <heartbeat/core/random.hpp>
#include <heartbeat/core/rtt_estimator.hpp>

#include <boost/system/error_code.hpp>

#include <algorithm>
#include <array>
#include <cstdint>
#include <memory>
#include <optional>

namespace heartbeat {

enum class peer_state { connecting, alive, suspect, dead };
const char* to_string(peer_state s) noexcept;

struct verdict {
    boost::system::error_code reason; // heartbeat::error::peer_dead or error::write_stalled
    unsigned missed = 0;              // consecutive unanswered pings at the verdict
    duration silence{};               // time since the last proof of life, as observed
    duration stalled{};               // part of `silence` our own process was stalled
    time_point at{};
};

// What one step asks the driver to do. Several fields can be set at once.
struct monitor_step {
    std::uint64_t send_ping = 0; // non-zero: write a PING with this sequence number now
    bool state_changed = false;  // `state` differs from the state before this step
    peer_state state = peer_state::connecting;
    std::optional<verdict> dead;     // set exactly once, on the step that reaches `dead`
    std::optional<duration> rtt;     // on_pong: the round trip this pong measured
    duration stall_lag{};            // non-zero: a local stall of this length was forgiven
    boost::system::error_code error; // protocol violation (unexpected_pong)
};

struct monitor_counters {
    std::uint64_t pings_sent = 0;
    std::uint64_t pongs_received = 0;
    std::uint64_t pongs_late = 0; // answered a ping whose deadline had already passed
    std::uint64_t misses = 0;
    std::uint64_t stalls = 0;
    duration stalled_total{};
};

class heartbeat_monitor {
public:
    // Precondition: validate(config) found nothing (the session validates at async_run).
    explicit heartbeat_monitor(const monitor_config& config,
                               uniform_source rng = default_uniform_source());
    ~heartbeat_monitor();
    heartbeat_monitor(heartbeat_monitor&&) noexcept;
    heartbeat_monitor& operator=(heartbeat_monitor&&) noexcept;

    // The connection is established (handshake done): connecting -> alive, silence starts now.
    monitor_step start(time_point now);
    // Any inbound frame other than a pong.
    monitor_step on_inbound(time_point now);
    // on_inbound's common case, inline (drivers call it for every inbound frame): the peer is
    // alive, no ping is awaited, so the frame only moves the idle deadline and the step would
    // ask for nothing. Returns false, having changed nothing, when on_inbound must run instead.
    bool on_routine_inbound(time_point now) noexcept {
        if (state_ != peer_state::alive || armed_ || missed_ != 0 || phi_ != nullptr ||
            missed_detector_.missed() != 0 || config_.liveness != liveness_mode::any_inbound ||
            unwritten_seq_ != 0)
            return false;
        // What proof_of_life + finish would do in this state (missed-count: activity is life).
        anchor_ = now;
        last_alive_real_ = now;
        stalled_since_alive_ = duration::zero();
        missed_detector_.record_alive(now);
        next_deadline_ = std::min(now + jittered_interval_, rtt_probe_due_);
        return true;
    }
    // An inbound pong echoing `seq`.
    monitor_step on_pong(std::uint64_t seq, time_point now);
    // A round trip measured without a ping (the native protocol's timed ACK of a numbered
    // message): a sample for the estimator and the adaptive pong timeout, and the RTT probe
    // waits another interval. Not proof of life by itself: the frame that carried it is.
    monitor_step on_rtt_sample(duration sample, time_point now);
    // The driver finished writing ping `seq` to the transport at `now`; the reply deadline runs
    // from `now`. `write_started` (when the write carrying it began; PINGs go first in a batch)
    // is the better base for the round trip when the completion was noticed late.
    void on_ping_written(std::uint64_t seq, time_point now);
    void on_ping_written(std::uint64_t seq, time_point now, time_point write_started);
    // The timer armed for next_deadline() fired.
    monitor_step on_timer(time_point now);

    // When on_timer must be called next; time_point::max() when nothing is pending.
    time_point next_deadline() const noexcept { return next_deadline_; }

    // Adopt a new interval (HELLO negotiation, SLOW_DOWN); takes effect from the next ping.
    void set_interval(duration interval, time_point now);

    peer_state state() const noexcept { return state_; }
    unsigned missed() const noexcept { return missed_; }
    duration interval() const noexcept { return config_.interval; }
    duration pong_timeout() const noexcept; // effective (adaptive when configured)
    duration budget() const noexcept;       // effective silence budget
    time_point last_proof_of_life() const noexcept { return last_alive_real_; }
    const rtt_estimator& rtt() const noexcept { return rtt_; }
    const monitor_counters& counters() const noexcept { return counters_; }
    const monitor_config& config() const noexcept { return config_; }

private:
    struct ping_record {
        std::uint64_t seq = 0;
        time_point sent{}; // when requested; once written, when its write began
    };

    void request_ping(time_point now, monitor_step& step);
    void proof_of_life(time_point now, bool is_heartbeat_sample);
    void resample_interval();
    void refresh_budget();
    void finish(time_point now, monitor_step& step);
    ping_record* find(std::uint64_t seq) noexcept;
    void schedule_rtt_probe() noexcept;
    bool rtt_probe_wanted(time_point now) const noexcept;
    time_point write_stall_deadline() const noexcept;

    monitor_config config_;
    uniform_source rng_;
    // The default detector lives inline (every session has one); only phi accrual, with its
    // window of samples, is allocated.
    missed_count_detector missed_detector_; // unused when phi_ is set
    std::unique_ptr<failure_detector> phi_;
    failure_detector& detector() noexcept {
        return phi_ ? *phi_ : static_cast<failure_detector&>(missed_detector_);
    }
    rtt_estimator rtt_;
    monitor_counters counters_;

    peer_state state_ = peer_state::connecting;
    time_point anchor_{};          // last proof of life, shifted forward by forgiven stalls
    time_point last_alive_real_{}; // last proof of life as it happened
    duration stalled_since_alive_{};
    duration jittered_interval_{};
    unsigned missed_ = 0;

    // The one ping whose deadline is armed; earlier pings stay in `in_flight_` so a late pong
    // still proves life and still measures a round trip. Eight covers every ping of a dead
    // verdict with max_missed up to 7; a pong for an older one still proves life, but measures
    // nothing (the table is per session, so it is kept small).
    bool armed_ = false;
    std::uint64_t armed_seq_ = 0;
    time_point armed_deadline_{};
    std::uint64_t last_seq_ = 0;
    std::array<ping_record, 8> in_flight_{};

    // The oldest ping requested and not yet reported written (0: none) and when it was
    // requested: the write-stall clock.
    std::uint64_t unwritten_seq_ = 0;
    time_point unwritten_since_{};

    time_point next_deadline_ = time_point::max();
    // RTT probing under traffic: when the last ping was requested and when the last round trip
    // was measured; the probe is due one interval after the last ping.
    time_point last_ping_request_{};
    time_point last_rtt_sample_{};
    time_point rtt_probe_due_ = time_point::max();
};

} // namespace heartbeat
