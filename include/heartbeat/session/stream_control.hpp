#pragma once
// What a link may ask of a stream beyond reading and writing, each only when the stream has it,
// so that a user-defined AsyncReadStream + AsyncWriteStream needs nothing more: the socket under
// any layering (TLS, WebSocket), cancelling its pending operations, shutting it down, closing it.
#include <boost/asio/socket_base.hpp>
#include <boost/system/error_code.hpp>

namespace heartbeat::detail {

template <class Stream>
auto& lowest_layer_of(Stream& s) {
    if constexpr (requires { s.lowest_layer(); })
        return s.lowest_layer();
    else
        return s;
}

// Pending reads and writes complete at once with operation_aborted. A stream without cancel()
// ends them when the peer next sends, closes, or when close_stream() below closes it.
template <class Stream>
void cancel_io(Stream& s) {
    auto& socket = lowest_layer_of(s);
    boost::system::error_code ignored;
    if constexpr (requires { socket.cancel(ignored); })
        socket.cancel(ignored);
}

template <class Stream>
void shutdown_stream(Stream& s, boost::asio::socket_base::shutdown_type what) {
    auto& socket = lowest_layer_of(s);
    boost::system::error_code ignored;
    if constexpr (requires { socket.shutdown(what, ignored); })
        socket.shutdown(what, ignored);
}

template <class Stream>
void close_stream(Stream& s) {
    auto& socket = lowest_layer_of(s);
    boost::system::error_code ignored;
    if constexpr (requires { socket.close(ignored); })
        socket.close(ignored);
    else if constexpr (requires { socket.close(); })
        socket.close();
}

} // namespace heartbeat::detail
