#pragma once
// The two programs of every namespace fault test and the bookkeeping around them:
// netns_sink (the server, which prints each sequence number it takes) and `heartbeat watch`
// (the client supervisor, streaming numbered messages with --send-rate), plus the count of
// what was sent against what the sinks took.
#include "child_process.hpp"

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace heartbeat::netns {

// Short heartbeats so the suite stays quick: budget = interval + misses x pong timeout.
struct heartbeat_timing {
    int interval_ms = 200;
    int pong_timeout_ms = 200;
    int misses = 3;
    int budget_ms() const { return interval_ms + misses * pong_timeout_ms; }
};

class sink_process {
public:
    // Starts netns_sink in `ns` on 0.0.0.0:port and waits for it to listen (throws if not).
    sink_process(const std::string& ns, unsigned port, const heartbeat_timing& timing);
    child_process& process() { return process_; }
    // Every sequence number taken so far, in arrival order (duplicates kept).
    std::vector<std::uint64_t> taken() const;
    // Waits up to `limit` until a message with sequence number >= seq was taken.
    bool wait_taken(std::uint64_t seq, steady::duration limit);

private:
    child_process process_;
};

struct delivery_summary {
    std::int64_t sent = 0; // the client's final count: sequence numbers 1..sent
    std::int64_t acked = 0;
    std::int64_t resent = 0;
    std::int64_t delivered = 0;  // distinct numbers in 1..sent that some sink took
    std::int64_t duplicated = 0; // takes beyond the first of a number
    std::int64_t lost = 0;       // numbers in 1..sent no sink took
};

class watch_process {
public:
    // `heartbeat watch ENDPOINTS --json` with `timing` and the extra flags, in `ns`.
    watch_process(const std::string& ns, const std::vector<std::string>& endpoints,
                  const heartbeat_timing& timing, const std::vector<std::string>& extra_flags);
    child_process& process() { return process_; }
    // The index of the first `event` line at or after `from` (and, if given, whose `endpoint`
    // is `endpoint`), waiting up to `limit`.
    std::optional<std::size_t> wait_event(const std::string& event, steady::duration limit,
                                          std::size_t from = 0, const std::string& endpoint = {});
    // The line at `index` and its `t_ms` (the watcher's own clock).
    std::string line(std::size_t index) const;
    std::int64_t t_ms(std::size_t index) const;
    steady::time_point arrived(std::size_t index) const;
    // Waits until the messages sent by the first `delivery` report at or after `from` are all
    // acknowledged (a later report's `acked` reaches that `sent`): the outage's backlog is
    // through. (`unacked` itself is rarely 0 while streaming: ACKs trail the data.)
    bool wait_caught_up(std::size_t from, steady::duration limit);
    // Stops it (SIGTERM: it stops sending, waits briefly for ACKs, closes) and returns its
    // final `delivery` event; throws if it does not exit within `limit`.
    std::string stop(steady::duration limit);

private:
    child_process process_;
};

// Compares the client's final count with what the sinks took.
delivery_summary count_delivery(const std::string& final_delivery,
                                const std::vector<const sink_process*>& sinks);

} // namespace heartbeat::netns
