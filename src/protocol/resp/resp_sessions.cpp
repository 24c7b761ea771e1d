// The stock resp sessions, compiled once.
#include <heartbeat/protocol/resp/resp_session.hpp>
#include <heartbeat/session/stream_session_impl.hpp>

namespace heartbeat {
template class session<stream_link<resp_profile, boost::asio::ip::tcp::socket>>;
template class session<
    stream_link<resp_profile, boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>>;
} // namespace heartbeat
