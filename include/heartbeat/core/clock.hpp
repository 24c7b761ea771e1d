#pragma once
// Time vocabulary of the whole project. The sans-io core never reads a clock: callers pass
// `time_point`s in, so tests drive it with exact, instant fake timelines.
#include <chrono>
#include <cstdint>

namespace heartbeat {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;
using duration = clock::duration;

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

// A time point as microseconds of the steady clock, as pings carry their send time on the wire.
inline std::uint64_t to_wire_micros(time_point t) noexcept {
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<microseconds>(t.time_since_epoch()).count());
}

} // namespace heartbeat
