#pragma once
// The sessions of the built-in byte-stream profiles, over TCP and TLS over TCP (compiled once in
// the library, src/protocol/*_sessions.cpp): Redis (resp_profile.hpp), MQTT (mqtt_profile.hpp)
// and line protocols (line_profile.hpp). For another stream, include
// <heartbeat/session/stream_session_impl.hpp> in one .cpp of yours.
#include <heartbeat/protocol/line/line_profile.hpp>
#include <heartbeat/protocol/mqtt/mqtt_profile.hpp>
#include <heartbeat/protocol/resp/resp_profile.hpp>
#include <heartbeat/session/session.hpp>
#include <heartbeat/session/stream_link.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

namespace heartbeat {

template <class Stream>
using resp_session = session<stream_link<resp_profile, Stream>>;
template <class Stream>
using mqtt_session = session<stream_link<mqtt_profile, Stream>>;
template <class Stream>
using line_session = session<stream_link<line_profile, Stream>>;

using tcp_stream = boost::asio::ip::tcp::socket;
using tls_stream = boost::asio::ssl::stream<boost::asio::ip::tcp::socket>;

using redis_session = resp_session<tcp_stream>;  // redis://
using rediss_session = resp_session<tls_stream>; // rediss://
using mqtt_tcp_session = mqtt_session<tcp_stream>;
using mqtts_session = mqtt_session<tls_stream>;
using line_tcp_session = line_session<tcp_stream>;
using line_tls_session = line_session<tls_stream>;

extern template class session<stream_link<resp_profile, tcp_stream>>;
extern template class session<stream_link<resp_profile, tls_stream>>;
extern template class session<stream_link<mqtt_profile, tcp_stream>>;
extern template class session<stream_link<mqtt_profile, tls_stream>>;
extern template class session<stream_link<line_profile, tcp_stream>>;
extern template class session<stream_link<line_profile, tls_stream>>;

} // namespace heartbeat
