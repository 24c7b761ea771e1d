#pragma once
// Native heartbeat sessions: basic_session<Stream> runs the native protocol (HELLO, PING/PONG,
// DATA, ACK, SLOW_DOWN, CLOSE: protocol/native/) over any connected Asio byte stream — TCP, a
// Unix domain socket, TLS after its handshake, or your own AsyncReadStream + AsyncWriteStream.
// It is the one session template (session/session.hpp) with the native profile:
//
//   reader    - reads frames, answers pings, reassembles messages, feeds the monitor;
//   writer    - writes control frames (PING, PONG, ACK, CLOSE) ahead of queued data, cutting
//               messages into chunks so a heartbeat never waits for more than one chunk;
//   heartbeat - one timer driven by the sans-io heartbeat_monitor.
// No coroutine frame lives while the session runs; only the farewell (the CLOSE frame and the
// bounded wait for the peer's EOF) is a coroutine, spawned when the session ends.
//
// async_receive completes with the payload (void(error_code, std::string));
// async_receive_message with a received_message (its sequence number in the logical session).
// Run endings beyond session.hpp's: error::too_many_pings, and the protocol errors
// frame_too_large, unknown_frame_type, malformed_frame, truncated_frame, unexpected_pong,
// data_before_hello, unsupported_version, incompatible_interval, handshake_timeout,
// message_too_large.
//
// The stock streams are compiled once in the library. For your own stream, include
// <heartbeat/session/stream_session_impl.hpp> in one .cpp and use basic_session<your_stream>.
#include <heartbeat/protocol/native/native_profile.hpp>
#include <heartbeat/session/session.hpp>
#include <heartbeat/session/stream_link.hpp>
#include <heartbeat/protocol/native/session_config.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>

namespace heartbeat {

template <class Stream>
using basic_session = session<stream_link<native_profile, Stream>>;

using tcp_session = basic_session<boost::asio::ip::tcp::socket>;
using unix_session = basic_session<boost::asio::local::stream_protocol::socket>;
using tls_session = basic_session<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;

extern template class session<stream_link<native_profile, boost::asio::ip::tcp::socket>>;
extern template class session<
    stream_link<native_profile, boost::asio::local::stream_protocol::socket>>;
extern template class session<
    stream_link<native_profile, boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>>;

} // namespace heartbeat
