#include <heartbeat/core/close_code.hpp>

#include <heartbeat/core/error.hpp>

namespace heartbeat {

bool says_goodbye(const boost::system::error_code& reason) noexcept {
    return reason.category() == heartbeat_category();
}

std::uint16_t close_code_for(const boost::system::error_code& reason) noexcept {
    if (reason.category() != heartbeat_category())
        return close_codes::internal_error;
    switch (static_cast<error>(reason.value())) {
    case error::session_closed:
    case error::peer_closed:
        return close_codes::normal;
    case error::too_many_pings:
        return close_codes::policy_violation;
    case error::frame_too_large:
    case error::message_too_large:
        return close_codes::message_too_big;
    case error::unknown_frame_type:
    case error::malformed_frame:
    case error::truncated_frame:
    case error::unexpected_pong:
    case error::unexpected_reply:
    case error::data_before_hello:
    case error::unsupported_version:
    case error::incompatible_interval:
    case error::handshake_timeout:
        return close_codes::protocol_error;
    default:
        return close_codes::internal_error;
    }
}

} // namespace heartbeat
