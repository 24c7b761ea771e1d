#pragma once
// What the status page (GET /, /status.json, the /live WebSocket) shows:
// one row per endpoint (`watch`) or per peer (`serve`) with its state, RTTs and counters, which
// endpoint is active, and the failover history. Sans-io: the command feeds it its own event
// stream with the time of each event and asks it for JSON; it never touches a socket or a clock.
//
// Every collection is bounded: each row keeps the last `rtt_ring_capacity` RTT samples (5 min at
// the default 1 s ping interval), the history its last `history_capacity` entries, and a `serve`
// board at most `max_rows` rows (the longest-closed peer's row goes first).
#include <heartbeat/core/clock.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

namespace heartbeat::cli {

// `watch`: rows are endpoints; `serve`: rows are peers.
enum class board_role { watch, serve };

// idle: an endpoint not tried yet; closed: a session that ended without a verdict (or a failed
// connection attempt); the others are the heartbeat monitor's states.
enum class row_state { idle, connecting, alive, suspect, dead, closed };
const char* to_string(row_state s) noexcept;
inline constexpr row_state all_row_states[] = {row_state::idle,  row_state::connecting,
                                               row_state::alive, row_state::suspect,
                                               row_state::dead,  row_state::closed};

// Upper bounds (seconds) of the RTT histogram buckets, as Prometheus `le` labels; +Inf is implicit.
inline constexpr double rtt_bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                               0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
inline constexpr std::size_t rtt_bucket_count = std::size(rtt_bucket_bounds);

struct rtt_sample {
    std::int64_t t_ms = 0; // since the board started
    std::int64_t rtt_us = 0;
};

struct board_row {
    std::string name; // endpoint label or peer address
    row_state state = row_state::idle;
    std::int64_t state_since_ms = 0;
    duration last_rtt{};
    duration srtt{};
    unsigned missed = 0; // consecutive, as last reported
    std::deque<rtt_sample> samples;
    // Counters since the board started, for /metrics.
    std::uint64_t pongs = 0;                          // RTT samples
    std::uint64_t pongs_missed = 0;                   // sum of the increases of `missed`
    std::uint64_t sessions = 0;                       // sessions established
    std::map<std::string, std::uint64_t> verdicts;    // reason -> count
    std::uint64_t rtt_buckets[rtt_bucket_count] = {}; // non-cumulative
    std::uint64_t rtt_count = 0;
    double rtt_sum_seconds = 0;
};

struct history_entry {
    std::int64_t t_ms = 0;
    std::string kind; // "failover", "failback", "reconnecting", "gave_up"
    std::string from, to;
};

class status_board {
public:
    static constexpr std::size_t rtt_ring_capacity = 300;
    static constexpr std::size_t history_capacity = 50;
    static constexpr std::size_t max_rows = 64;

    status_board(board_role role, time_point start) : role_(role), start_(start) {}

    board_role role() const noexcept { return role_; }

    // A row known in advance (watch: every endpoint, in preference order).
    void add_row(const std::string& name);

    void on_connecting(const std::string& name, time_point now);
    // The heartbeat handshake completed: the row is alive and (watch) the active endpoint.
    void on_established(const std::string& name, time_point now);
    void on_state(const std::string& name, row_state state, unsigned missed, time_point now);
    void on_rtt(const std::string& name, duration rtt, duration srtt, time_point now);
    void on_verdict(const std::string& name, const std::string& reason, unsigned missed,
                    time_point now);
    // The session (or attempt) ended; a dead row stays dead.
    void on_closed(const std::string& name, time_point now);
    // "failover", "failback", "reconnecting" (from/to empty) or "gave_up".
    void on_history(const std::string& kind, const std::string& from, const std::string& to,
                    time_point now);

    const std::vector<board_row>& rows() const noexcept { return rows_; }
    const std::string& active() const noexcept { return active_; }
    const std::deque<history_entry>& history() const noexcept { return history_; }
    std::uint64_t count(const std::string& history_kind) const;

    // GET /status.json: rows without their samples, the active endpoint, the history.
    std::string status_json(time_point now) const;
    // The /live snapshot sent on connect: as status_json plus every row's samples.
    std::string snapshot_json(time_point now) const;
    // The /live update: as status_json plus each row's samples added since the last call
    // (a client that got a snapshot in between drops the ones it has by their t_ms).
    std::string take_update_json(time_point now);

    // Bumped on every state change, failover or row change: the pusher sends at once on a change.
    std::uint64_t version() const noexcept { return version_; }

private:
    board_row& row(const std::string& name, time_point now);
    std::int64_t ms_since_start(time_point t) const;
    void set_state(board_row& r, row_state s, time_point now);
    void evict_closed_rows();
    // Samples: none (`with_samples` false), all (`since` null) or those newer than since[name].
    std::string render(time_point now, bool with_samples,
                       const std::map<std::string, std::int64_t>* since) const;

    board_role role_;
    time_point start_;
    std::vector<board_row> rows_;
    std::map<std::string, std::int64_t> last_sent_t_; // row name -> newest sample in an update
    std::string active_;
    std::deque<history_entry> history_;
    std::map<std::string, std::uint64_t> history_counts_;
    std::uint64_t version_ = 0;
};

} // namespace heartbeat::cli
