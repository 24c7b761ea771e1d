#pragma once
// Time vocabulary of the whole project. The sans-io core never reads a clock: callers pass
// `time_point`s in, so tests drive it with exact, instant fake timelines.
#include <chrono>

namespace heartbeat {

using clock = std::chrono::steady_clock;
using time_point = clock::time_point;
using duration = clock::duration;

using std::chrono::microseconds;
using std::chrono::milliseconds;
using std::chrono::nanoseconds;
using std::chrono::seconds;

} // namespace heartbeat
