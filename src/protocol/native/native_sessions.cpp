// The stock native sessions are compiled once here so users of them never instantiate the run
// loop.
#include <heartbeat/protocol/native/native_session.hpp>
#include <heartbeat/session/stream_session_impl.hpp>

namespace heartbeat {
template class session<stream_link<native_profile, boost::asio::ip::tcp::socket>>;
template class session<stream_link<native_profile, boost::asio::local::stream_protocol::socket>>;
template class session<
    stream_link<native_profile, boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>>;
} // namespace heartbeat
