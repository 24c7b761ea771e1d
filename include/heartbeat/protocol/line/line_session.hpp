#pragma once
// Line-protocol connections kept alive: session<stream_link<line_profile, Stream>>
// (line_profile.hpp). The stock streams (TCP, TLS over TCP) are compiled once in the library; for
// another stream include <heartbeat/session/stream_session_impl.hpp> in one .cpp of yours.
#include <heartbeat/protocol/line/line_profile.hpp>
#include <heartbeat/session/session.hpp>
#include <heartbeat/session/stream_link.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

namespace heartbeat {

template <class Stream>
using line_session = session<stream_link<line_profile, Stream>>;

using line_tcp_session = line_session<boost::asio::ip::tcp::socket>;
using line_tls_session = line_session<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;

extern template class session<stream_link<line_profile, boost::asio::ip::tcp::socket>>;
extern template class session<
    stream_link<line_profile, boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>>;

} // namespace heartbeat
