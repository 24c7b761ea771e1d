#pragma once
// Implementation of session<stream_link<Profile, Stream>>. The stock sessions are compiled once
// in src/; for your own profile or stream, include this header in one .cpp of yours and write
//     template class heartbeat::session<heartbeat::stream_link<my_profile, my_stream>>;
// (or just use the session there: the templates instantiate where they are used).
#include <heartbeat/session/session_impl.hpp>
#include <heartbeat/session/stream_link.hpp>
#include <heartbeat/session/stream_link_ending.hpp>
#include <heartbeat/session/stream_link_reader.hpp>
#include <heartbeat/session/stream_link_writer.hpp>
#include <heartbeat/session/tcp_keepalive.hpp>

namespace heartbeat {

template <byte_stream_profile Profile, class Stream>
stream_link<Profile, Stream>::stream_link(core_type& core) : core_(core), profile_(core.config()) {}

template <byte_stream_profile Profile, class Stream>
Stream& stream_link<Profile, Stream>::stream() noexcept {
    return core_.stream();
}

template <byte_stream_profile Profile, class Stream>
bool stream_link<Profile, Stream>::stopping() const noexcept {
    return core_.stop_reason && !core_.draining();
}

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::start() {
    detail::apply_tcp_keepalive(detail::lowest_layer_of(stream()), config().tcp_keepalive,
                                config().heartbeat);
    now_ = clock::now();
    profile_.start(*this); // the handshake into control(), or handshake_done() at once
    write_next();
    start_reader();
}

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::on_stop() {
    wake_writer_later();
    resume_reader();
}

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::abort_io() {
    detail::cancel_io(stream());
}

template <byte_stream_profile Profile, class Stream>
bool stream_link<Profile, Stream>::accept_taken(message_type& m) {
    if constexpr (requires { profile_.accept_taken(*this, m); })
        return profile_.accept_taken(*this, m);
    else
        return true;
}

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::on_taken() {
    if constexpr (requires { profile_.on_taken(*this, now_); })
        profile_.on_taken(*this, clock::now());
}

template <byte_stream_profile Profile, class Stream>
auto stream_link<Profile, Stream>::pong(std::uint64_t seq) -> error_code {
    return core_.pong(seq, now_);
}

template <byte_stream_profile Profile, class Stream>
auto stream_link<Profile, Stream>::rtt_sample(duration sample) -> error_code {
    return core_.rtt_sample(sample, now_);
}

// The next reply, in request order: a ping's is its pong; a request's goes to the application.
template <byte_stream_profile Profile, class Stream>
auto stream_link<Profile, Stream>::reply(message_type&& m) -> error_code {
    static_assert(Profile::matching == ping_matching::in_order, "by_id profiles call pong(seq)");
    if (awaiting_.empty())
        return error::unexpected_reply;
    std::uint64_t& front = awaiting_.front();
    if (front & ping_bit) {
        const std::uint64_t seq = front & ~ping_bit;
        awaiting_.pop_front();
        recycle(std::move(m.payload));
        if (seq == 0) { // a keep-alive of ours, not watched by the monitor: traffic
            saw_inbound_ = true;
            return {};
        }
        return core_.pong(seq, now_);
    }
    if (--front == 0)
        awaiting_.pop_front();
    saw_inbound_ = true; // the answer to a request of the application's: traffic
    core_.deliver(std::move(m));
    return {};
}

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::queue_keepalive_ping() {
    static_assert(Profile::matching == ping_matching::in_order, "replies are told apart by order");
    pings_queued_.push_back(0);
    profile_.encode_ping(control_out_, 0, clock::now());
}

template <byte_stream_profile Profile, class Stream>
bool stream_link<Profile, Stream>::awaiting_reply() const noexcept {
    if constexpr (Profile::matching == ping_matching::in_order)
        return !awaiting_.empty();
    else
        return false;
}

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::deliver(message_type&& m) {
    core_.deliver(std::move(m));
}

template <byte_stream_profile Profile, class Stream>
std::string stream_link<Profile, Stream>::make_payload(std::span<const std::uint8_t> bytes) {
    return core_.make_payload(bytes);
}

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::recycle(std::string&& payload) {
    core_.recycle(std::move(payload));
}

template <byte_stream_profile Profile, class Stream>
auto stream_link<Profile, Stream>::handshake_done(duration interval) -> error_code {
    return core_.on_handshake_done(now_, interval);
}

template <byte_stream_profile Profile, class Stream>
void stream_link<Profile, Stream>::set_interval(duration interval) {
    core_.set_interval(interval, now_);
}

template <byte_stream_profile Profile, class Stream>
detail::session_shared_stats& stream_link<Profile, Stream>::stats() noexcept {
    return core_.stats();
}

template <byte_stream_profile Profile, class Stream>
const session_callbacks& stream_link<Profile, Stream>::callbacks() const noexcept {
    return core_.callbacks();
}

template <byte_stream_profile Profile, class Stream>
auto stream_link<Profile, Stream>::config() const noexcept -> const config_type& {
    return core_.config();
}

template <byte_stream_profile Profile, class Stream>
bool stream_link<Profile, Stream>::ended() const noexcept {
    return core_.ended;
}

template <byte_stream_profile Profile, class Stream>
duration stream_link<Profile, Stream>::interval() const noexcept {
    return core_.monitor.interval();
}

} // namespace heartbeat
