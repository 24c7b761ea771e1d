#pragma once
// Redis connections kept healthy: session<stream_link<resp_profile, Stream>> (resp_profile.hpp).
// The stock streams (TCP, TLS over TCP) are compiled once in the library; for another stream
// include <heartbeat/session/stream_session_impl.hpp> in one .cpp of yours.
#include <heartbeat/protocol/resp/resp_profile.hpp>
#include <heartbeat/session/session.hpp>
#include <heartbeat/session/stream_link.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

namespace heartbeat {

template <class Stream>
using resp_session = session<stream_link<resp_profile, Stream>>;

using redis_session = resp_session<boost::asio::ip::tcp::socket>;
using rediss_session = resp_session<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;

extern template class session<stream_link<resp_profile, boost::asio::ip::tcp::socket>>;
extern template class session<
    stream_link<resp_profile, boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>>;

} // namespace heartbeat
