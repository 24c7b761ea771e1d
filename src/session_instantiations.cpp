// The stock sessions are compiled once here so users of them never instantiate the run loop.
#include <heartbeat/detail/session_impl.hpp>

namespace heartbeat {
template class basic_session<boost::asio::ip::tcp::socket>;
template class basic_session<boost::asio::local::stream_protocol::socket>;
template class basic_session<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;
} // namespace heartbeat
