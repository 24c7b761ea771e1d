#include <heartbeat/core/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <string>

namespace heartbeat {
namespace {

const char* name_of(error e) noexcept {
    switch (e) {
    case error::peer_dead:
        return "peer_dead";
    case error::peer_closed:
        return "peer_closed";
    case error::too_many_pings:
        return "too_many_pings";
    case error::session_closed:
        return "session_closed";
    case error::write_stalled:
        return "write_stalled";
    case error::invalid_config:
        return "invalid_config";
    case error::frame_too_large:
        return "frame_too_large";
    case error::unknown_frame_type:
        return "unknown_frame_type";
    case error::malformed_frame:
        return "malformed_frame";
    case error::truncated_frame:
        return "truncated_frame";
    case error::unexpected_pong:
        return "unexpected_pong";
    case error::data_before_hello:
        return "data_before_hello";
    case error::unsupported_version:
        return "unsupported_version";
    case error::incompatible_interval:
        return "incompatible_interval";
    case error::handshake_timeout:
        return "handshake_timeout";
    case error::message_too_large:
        return "message_too_large";
    case error::handshake_failed:
        return "handshake_failed";
    case error::authentication_failed:
        return "authentication_failed";
    case error::not_authorized:
        return "not_authorized";
    case error::client_id_rejected:
        return "client_id_rejected";
    case error::server_unavailable:
        return "server_unavailable";
    case error::unexpected_reply:
        return "unexpected_reply";
    case error::invalid_message:
        return "invalid_message";
    case error::all_endpoints_failed:
        return "all_endpoints_failed";
    case error::connect_timeout:
        return "connect_timeout";
    case error::send_buffer_full:
        return "send_buffer_full";
    case error::pool_full:
        return "pool_full";
    case error::no_such_member:
        return "no_such_member";
    }
    return nullptr;
}

class category final : public boost::system::error_category {
public:
    const char* name() const noexcept override { return "heartbeat"; }
    std::string message(int ev) const override {
        switch (static_cast<error>(ev)) {
        case error::peer_dead:
            return "peer dead: heartbeat replies stopped for the silence budget";
        case error::peer_closed:
            return "peer closed the connection";
        case error::too_many_pings:
            return "too many pings: peer pinged faster than the minimum interval";
        case error::session_closed:
            return "session closed locally";
        case error::write_stalled:
            return "write stalled: a heartbeat could not be written for the silence budget (the "
                   "peer stopped reading)";
        case error::invalid_config:
            return "invalid configuration";
        case error::frame_too_large:
            return "frame length above the configured maximum";
        case error::unknown_frame_type:
            return "unknown frame type";
        case error::malformed_frame:
            return "malformed frame payload";
        case error::truncated_frame:
            return "stream ended inside a frame";
        case error::unexpected_pong:
            return "pong for a ping that was never sent";
        case error::data_before_hello:
            return "frame received before HELLO";
        case error::unsupported_version:
            return "unsupported protocol version";
        case error::incompatible_interval:
            return "heartbeat interval ranges do not overlap";
        case error::handshake_timeout:
            return "protocol handshake not completed in time";
        case error::message_too_large:
            return "inbound message above the configured maximum";
        case error::handshake_failed:
            return "the peer refused the protocol handshake or closed during it";
        case error::authentication_failed:
            return "authentication failed: credentials refused";
        case error::not_authorized:
            return "not authorized";
        case error::client_id_rejected:
            return "client identifier rejected";
        case error::server_unavailable:
            return "server unavailable";
        case error::unexpected_reply:
            return "reply received with no request awaiting it";
        case error::invalid_message:
            return "message is not valid for the session's protocol";
        case error::all_endpoints_failed:
            return "all endpoints failed: give-up rule reached";
        case error::connect_timeout:
            return "connect timed out";
        case error::send_buffer_full:
            return "send buffer full";
        case error::pool_full:
            return "session pool full: every member slot is taken";
        case error::no_such_member:
            return "no such pool member: it has ended";
        }
        return "unknown heartbeat error " + std::to_string(ev);
    }
};

} // namespace

const boost::system::error_category& heartbeat_category() noexcept {
    static const category instance;
    return instance;
}

bool is_fatal(const boost::system::error_code& ec) noexcept {
    if (ec.category() == heartbeat_category()) {
        switch (static_cast<error>(ec.value())) {
        case error::invalid_config:
        case error::session_closed:
        case error::unsupported_version:
        case error::incompatible_interval:
        case error::authentication_failed:
        case error::not_authorized:
        case error::client_id_rejected:
        case error::all_endpoints_failed:
            return true;
        default:
            return false;
        }
    }
    return ec == boost::asio::error::operation_aborted;
}

const char* error_name(const boost::system::error_code& ec) noexcept {
    if (!ec)
        return "ok";
    if (ec.category() == heartbeat_category()) {
        if (const char* n = name_of(static_cast<error>(ec.value())))
            return n;
        return "heartbeat_unknown";
    }
    if (ec == boost::asio::error::eof)
        return "eof";
    if (ec == boost::asio::error::operation_aborted)
        return "operation_aborted";
    if (ec == boost::asio::error::connection_reset)
        return "connection_reset";
    if (ec == boost::asio::error::connection_refused)
        return "connection_refused";
    if (ec == boost::asio::error::broken_pipe)
        return "broken_pipe";
    if (ec == boost::asio::error::timed_out)
        return "timed_out";
    if (ec == boost::asio::error::host_not_found)
        return "host_not_found";
    if (ec == boost::asio::ssl::error::stream_truncated)
        return "stream_truncated";
    return "system_error";
}

} // namespace heartbeat
