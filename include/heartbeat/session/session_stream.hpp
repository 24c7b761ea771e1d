#pragma once
// What a session needs of the stream it runs over (basic_session<Stream>, or any profile's
// stream_link<Profile, Stream>): an Asio AsyncReadStream + AsyncWriteStream with an executor.
// Nothing else is required; lowest_layer(), cancel(ec), shutdown(what, ec) and close(ec) are
// used when present (session/stream_control.hpp says what each one adds). stream_link checks
// each requirement with a static_assert that names the one that is missing.
#include <boost/asio/buffer.hpp>
#include <boost/system/error_code.hpp>

#include <concepts>
#include <cstddef>

namespace heartbeat {
namespace detail {

// Stands for a completion handler in the requirement checks below (never called).
struct probe_io_handler {
    void operator()(boost::system::error_code, std::size_t) const {}
};

} // namespace detail

template <class Stream>
concept stream_with_executor = requires(Stream& s) {
    typename Stream::executor_type;
    { s.get_executor() } -> std::convertible_to<typename Stream::executor_type>;
};

template <class Stream>
concept async_read_stream = requires(Stream& s, boost::asio::mutable_buffer b) {
    s.async_read_some(b, detail::probe_io_handler{});
};

template <class Stream>
concept async_write_stream = requires(Stream& s, boost::asio::const_buffer b) {
    s.async_write_some(b, detail::probe_io_handler{});
};

template <class Stream>
concept session_stream =
    stream_with_executor<Stream> && async_read_stream<Stream> && async_write_stream<Stream>;

} // namespace heartbeat
