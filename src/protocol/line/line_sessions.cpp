// The stock line sessions, compiled once.
#include <heartbeat/protocol/line/line_session.hpp>
#include <heartbeat/session/stream_session_impl.hpp>

namespace heartbeat {
template class session<stream_link<line_profile, boost::asio::ip::tcp::socket>>;
template class session<
    stream_link<line_profile, boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>>;
} // namespace heartbeat
