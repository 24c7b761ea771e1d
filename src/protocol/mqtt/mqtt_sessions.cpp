// The stock mqtt sessions, compiled once.
#include <heartbeat/protocol/mqtt/mqtt_session.hpp>
#include <heartbeat/session/stream_session_impl.hpp>

namespace heartbeat {
template class session<stream_link<mqtt_profile, boost::asio::ip::tcp::socket>>;
template class session<
    stream_link<mqtt_profile, boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>>;
} // namespace heartbeat
