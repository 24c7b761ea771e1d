#pragma once
// Durations on the command line: a non-negative decimal number with a mandatory unit, `ms`, `s`
// or `m` (250ms, 1.5s, 2m). A bare number is rejected because "5" is ambiguous between the
// units people expect from other tools.
#include <heartbeat/core/clock.hpp>

#include <string_view>

namespace heartbeat::cli {

// Throws std::invalid_argument with a message fit to follow "--flag: ".
duration parse_duration(std::string_view text);

} // namespace heartbeat::cli
