// The stock WebSocket sessions are compiled once here so users of them never instantiate the
// run loop (nor most of Beast's WebSocket templates).
#include <heartbeat/protocol/websocket/websocket_session_impl.hpp>
#include <heartbeat/protocol/websocket/websocket_session.hpp>

namespace heartbeat {
template class session<websocket_link<boost::asio::ip::tcp::socket>>;
template class session<websocket_link<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>>;
} // namespace heartbeat
