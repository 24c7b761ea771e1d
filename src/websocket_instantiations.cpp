// The stock WebSocket sessions are compiled once here so users of them never instantiate the
// run loop (nor most of Beast's WebSocket templates).
#include <heartbeat/detail/websocket_session_impl.hpp>

namespace heartbeat {
template class websocket_session<boost::asio::ip::tcp::socket>;
template class websocket_session<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;
} // namespace heartbeat
