#pragma once
// The HELLO exchange of the native protocol, in one place for every native session (the
// per-connection basic_session and the session_pool's members): what we announce, and whether
// a peer's HELLO is acceptable and at which heartbeat interval. Sans-io.
#include <heartbeat/core/clock.hpp>
#include <heartbeat/protocol/native/frame.hpp>
#include <heartbeat/protocol/native/session_config.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>

namespace heartbeat {

// A duration as the protocol's 32-bit milliseconds, clamped to its range.
std::uint32_t to_wire_ms32(duration d) noexcept;

// The slowest our own interval may become when the peer asks us to ping less often.
duration max_negotiated_interval_of(const session_config& c) noexcept;

// The HELLO this configuration sends first.
hello_frame hello_of(const session_config& c) noexcept;

struct hello_verdict {
    boost::system::error_code ec; // unsupported_version, malformed_frame, incompatible_interval
    duration interval{};          // the interval to ping at when ec is clear
};

// Checks the peer's (first) HELLO: our version, a first sequence number of at least 1, and an
// interval range we can live with (see negotiate_interval).
hello_verdict accept_hello(const session_config& c, const hello_frame& h) noexcept;

} // namespace heartbeat
