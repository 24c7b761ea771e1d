#include <heartbeat/server/server.hpp>

#include <heartbeat/server/server_frontend_impl.hpp>

namespace heartbeat {

namespace asio = boost::asio;

template <class Protocol>
bool basic_server<Protocol>::send_to(std::uint64_t peer_id, std::string message) {
    return this->core().send_to(peer_id, std::move(message));
}

template class server_frontend<native_server_adapter<asio::ip::tcp>>;
template class server_frontend<native_server_adapter<asio::local::stream_protocol>>;
template class basic_server<asio::ip::tcp>;
template class basic_server<asio::local::stream_protocol>;

} // namespace heartbeat
