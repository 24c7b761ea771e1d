// How the WebSocket link names the ways a connection ends: every way the peer can go away is
// peer_closed (session.hpp's promise: "goodbye, EOF or reset from the peer"), an oversize
// message is message_too_large, a broken RFC 6455 rule is malformed_frame, anything else keeps
// its own code.
#include <heartbeat/core/error.hpp>
#include <heartbeat/protocol/websocket/websocket_heartbeat_codec.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/beast/websocket/error.hpp>

#include <gtest/gtest.h>

using namespace heartbeat;
namespace asio = boost::asio;
namespace websocket = boost::beast::websocket;

TEST(WebSocketErrorMap, EveryWayThePeerGoesAwayIsPeerClosed) {
    const boost::system::error_code gone[] = {
        websocket::error::closed, asio::error::eof,           asio::error::connection_reset,
        asio::error::broken_pipe, asio::error::not_connected, asio::ssl::error::stream_truncated};
    for (const auto& ec : gone)
        EXPECT_EQ(detail::map_websocket_error(ec), error::peer_closed) << ec.message();
}

TEST(WebSocketErrorMap, OversizeIsMessageTooLargeAndOthersKeepTheirCode) {
    EXPECT_EQ(detail::map_websocket_error(websocket::error::message_too_big),
              error::message_too_large);
    const boost::system::error_code other = asio::error::timed_out;
    EXPECT_EQ(detail::map_websocket_error(other), other);
}

// Found by websocket_session_fuzzer: a peer breaking RFC 6455 ended the session with Beast's own
// code, not a named reason of ours.
TEST(WebSocketErrorMap, ProtocolViolationsAreMalformedFrame) {
    const boost::system::error_code broken[] = {
        websocket::error::bad_unmasked_frame, websocket::error::bad_opcode,
        websocket::error::bad_reserved_bits,  websocket::error::bad_control_fragment,
        websocket::error::bad_frame_payload,  websocket::error::bad_close_code};
    for (const auto& ec : broken)
        EXPECT_EQ(detail::map_websocket_error(ec), error::malformed_frame) << ec.message();
}
