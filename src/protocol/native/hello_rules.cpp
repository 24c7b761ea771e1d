#include <heartbeat/core/interval_negotiation.hpp>
#include <heartbeat/protocol/native/hello_rules.hpp>

#include <algorithm>

namespace heartbeat {

std::uint32_t to_wire_ms32(duration d) noexcept {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
    return static_cast<std::uint32_t>(std::clamp<long long>(ms, 0, 0xFFFFFFFFLL));
}

duration max_negotiated_interval_of(const session_config& c) noexcept {
    return c.max_negotiated_interval != duration::zero() ? c.max_negotiated_interval
                                                         : 4 * c.heartbeat.interval;
}

hello_frame hello_of(const session_config& c) noexcept {
    return hello_frame{protocol_version,
                       to_wire_ms32(c.min_peer_ping_interval),
                       to_wire_ms32(c.max_peer_ping_interval),
                       c.session_id,
                       feature_timed_ack,
                       c.first_seq};
}

hello_verdict accept_hello(const session_config& c, const hello_frame& h) noexcept {
    if (h.version != protocol_version)
        return {error::unsupported_version, {}};
    if (h.first_seq == 0)
        return {error::malformed_frame, {}};
    const auto negotiated =
        negotiate_interval(c.heartbeat.interval, milliseconds(h.min_interval_ms),
                           milliseconds(h.max_interval_ms), max_negotiated_interval_of(c));
    if (negotiated.ec)
        return {negotiated.ec, {}};
    return {{}, negotiated.interval};
}

} // namespace heartbeat
