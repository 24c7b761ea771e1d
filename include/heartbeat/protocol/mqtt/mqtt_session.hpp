#pragma once
// MQTT broker connections kept alive: session<stream_link<mqtt_profile, Stream>>
// (mqtt_profile.hpp). The stock streams (TCP, TLS over TCP) are compiled once in the library; for
// another stream include <heartbeat/session/stream_session_impl.hpp> in one .cpp of yours.
#include <heartbeat/protocol/mqtt/mqtt_profile.hpp>
#include <heartbeat/session/session.hpp>
#include <heartbeat/session/stream_link.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

namespace heartbeat {

template <class Stream>
using mqtt_session = session<stream_link<mqtt_profile, Stream>>;

using mqtt_tcp_session = mqtt_session<boost::asio::ip::tcp::socket>;
using mqtts_session = mqtt_session<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;

extern template class session<stream_link<mqtt_profile, boost::asio::ip::tcp::socket>>;
extern template class session<
    stream_link<mqtt_profile, boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>>;

} // namespace heartbeat
