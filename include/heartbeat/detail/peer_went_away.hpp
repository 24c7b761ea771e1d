#pragma once
// The transport errors that mean the peer went away (killed, closed, reset) while we wrote or
// tore the connection down: a session ends with error::peer_closed for each, whatever the
// transport (TCP, TLS, WebSocket) called it. Reads have their own rule (a hang-up in the middle
// of a frame is truncated_frame): see stream_link_reader.hpp.
#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/system/error_code.hpp>

namespace heartbeat::detail {

inline bool peer_went_away(const boost::system::error_code& ec) noexcept {
    namespace e = boost::asio::error;
    // not_connected: a shutdown after the peer's reset has arrived fails that way. TLS reports
    // an end of stream as a truncated stream.
    return ec == e::connection_reset || ec == e::broken_pipe || ec == e::eof ||
           ec == e::not_connected || ec == boost::asio::ssl::error::stream_truncated;
}

} // namespace heartbeat::detail
