#pragma once
// What identifies one metrics series: who reports (role), over which protocol, to which
// endpoint (client) or from which peer (server). The label values are the fixed vocabulary of
// every family in the registry; see docs/observability.md.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>

namespace heartbeat::metrics {

struct series_labels {
    std::string role = "client"; // client | server
    std::string protocol;        // native, ws, resp, mqtt, line (sessions fill in their own)
    std::string endpoint;        // client: the endpoint's label; server: empty
    std::string peer;            // server: the peer's host; client: empty

    friend auto operator<=>(const series_labels&, const series_labels&) = default;
};

// The value of heartbeat_endpoint_state's `state` label; `unknown` (nothing reported yet) is
// not rendered.
enum class endpoint_state : std::uint8_t { unknown, connecting, alive, suspect, dead, closed };
inline constexpr std::array<const char*, 5> endpoint_state_names = {"connecting", "alive",
                                                                    "suspect", "dead", "closed"};
const char* to_string(endpoint_state s) noexcept;

// The endings the heartbeat machinery decides on, by their error_name(): the `reason` label of
// heartbeat_verdicts_total. Every other ending (a close, a transport error) is not a verdict.
inline constexpr std::array<const char*, 5> verdict_reasons = {
    "peer_dead", "write_stalled", "handshake_timeout", "too_many_pings", "unexpected_pong"};
inline constexpr std::size_t verdict_reason_count = verdict_reasons.size();

// The peer label of the series that aggregates every peer beyond registry_options'
// max_peer_series.
inline constexpr const char* other_peers = "_other";

} // namespace heartbeat::metrics
