#pragma once
// A byte-stream protocol profile: all that stream_link needs to know to keep a session of one
// protocol alive over any connected byte stream. The session core, the reader, the writer, the
// heartbeat timer and the ending are written once; a profile says only what differs:
//
//   * how to write a ping (encode_ping) and how its reply is matched: by the id the ping
//     carries (ping_matching::by_id: the profile calls ctx.pong(seq)), or by order
//     (ping_matching::in_order: the profile calls ctx.reply(...) for every reply, and the link
//     matches replies to the pings and requests it wrote, in the order it wrote them);
//   * how to recognise frames among inbound bytes, which of them count as traffic
//     (ctx.traffic()), which are application messages (ctx.deliver(...)) — parse(), sans-io:
//     bytes in, one frame out per call;
//   * how to frame application data (prefix/suffix around each chunk), whether a ping may slip
//     between the chunks of one message (pings_between_chunks), and which payloads are
//     acceptable at all (admit);
//   * the handshake (start(): write it and call ctx.handshake_done() once the peer answered,
//     or at once when the protocol has none) and the goodbye (goodbye()).
//
// The frame context `ctx` that stream_link passes (its own public "for profiles" members):
//   ctx.now()                      time of the read being parsed (or of start())
//   ctx.traffic()                  this frame proves the peer alive (liveness any_inbound)
//   ctx.pong(seq) -> error_code    by_id: the answer to our ping `seq`
//   ctx.rtt_sample(d) -> error_code   a round trip measured without a ping (timed ACKs)
//   ctx.reply(message) -> error_code   in_order: the next reply; a ping's is taken as its pong,
//                                  a request's is delivered; none awaited = unexpected_reply
//   ctx.deliver(message)           an application message that answers nothing (a push)
//   ctx.make_payload(bytes)        a std::string of `bytes`, in a recycled buffer if one fits
//   ctx.control()                  bytes written before any queued data (pongs, acks, handshake)
//   ctx.wake_writer()              start writing what control() holds (from start() or parse())
//   ctx.handshake_done(interval) -> error_code   the monitor starts at `interval`
//   ctx.set_interval(d)            the peer asked us to ping at most every `d`
//   ctx.wake_at(t)                 call on_writer_idle() again at `t` (one timer, earliest wins)
//   ctx.interval()                 the heartbeat interval in force
//   ctx.stats(), ctx.callbacks(), ctx.config(), ctx.ended()
//
// Optional hooks, detected when present: accept_taken (drop a duplicate as the application
// takes it), on_taken (after the application took messages), before_write (append to a write
// that goes out anyway), on_writer_idle (the writer has nothing left: append something due now,
// or ctx.wake_at() when it will be), on_message_written (one of our messages went out whole,
// in a write that began at the time given: what a timed ACK measures from; wants_write_time
// says when that time is worth reading the clock for). See
// protocol/native/native_profile.hpp for all of them, and examples/ for a complete user-defined
// profile.
#include <heartbeat/core/clock.hpp>
#include <heartbeat/core/config.hpp>
#include <heartbeat/core/error.hpp>
#include <heartbeat/core/log_sink.hpp>
#include <heartbeat/metrics/series_labels.hpp>

#include <boost/system/error_code.hpp>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace heartbeat::metrics {
class registry;
} // namespace heartbeat::metrics

namespace heartbeat {

enum class ping_matching : std::uint8_t {
    by_id,    // the reply echoes an id of the ping (native PONG, WebSocket pong payload)
    in_order, // replies come back in request order and carry no id (RESP, MQTT, line)
};

struct no_send_options {};
struct no_outgoing_tag {};

// What parse() made of the bytes at the start of its input.
struct frame_status {
    enum class status : std::uint8_t { complete, need_more, error };
    status st = status::need_more;
    std::size_t consumed = 0;     // complete: the frame's bytes, dropped before the next parse
    std::size_t need = 0;         // need_more: the input must grow to this size (0 = unknown)
    boost::system::error_code ec; // error: why the session ends

    static frame_status complete(std::size_t n) noexcept { return {status::complete, n, 0, {}}; }
    static frame_status need_more(std::size_t need = 0) noexcept {
        return {status::need_more, 0, need, {}};
    }
    static frame_status failed(boost::system::error_code ec) noexcept {
        return {status::error, 0, 0, ec};
    }
};

// The members every profile has; the frame-context calls are checked where they are made.
template <class P>
concept byte_stream_profile = requires(P& p, const P& cp, std::vector<std::uint8_t>& out,
                                       std::string& payload, const typename P::send_options& opt,
                                       typename P::outgoing_tag& tag,
                                       const typename P::config_type& config) {
    typename P::config_type;  // has session_options' fields (heartbeat, timeouts, limits)
    typename P::message_type; // has a `std::string payload`; default-constructible
    typename P::send_options; // no_send_options unless messages have options
    typename P::outgoing_tag; // what admit() notes per message for the writer
    { P::matching } -> std::convertible_to<ping_matching>;
    { P::receive_payload_only } -> std::convertible_to<bool>;
    { P::pings_between_chunks } -> std::convertible_to<bool>; // messages may be cut in chunks
    { P::max_prefix } -> std::convertible_to<std::size_t>;    // bytes before a chunk, at most
    P(config);
    { P::validate(config) } -> std::convertible_to<std::optional<config_error>>;
    { cp.max_frame_size() } -> std::convertible_to<std::size_t>; // read buffer bound
    p.encode_ping(out, std::uint64_t{}, time_point{});
    { p.admit(payload, opt, tag) } -> std::convertible_to<boost::system::error_code>;
    {
        cp.prefix(static_cast<std::uint8_t*>(nullptr), std::size_t{}, bool{})
        } -> std::convertible_to<std::size_t>;
    { cp.suffix(bool{}) } -> std::convertible_to<std::span<const std::uint8_t>>;
    { cp.replies_expected(tag) } -> std::convertible_to<std::uint32_t>; // in_order bookkeeping
    p.goodbye(out, boost::system::error_code{});
};

// The fields every session config has, whatever its protocol. Profile configs derive from it.
struct session_options {
    monitor_config heartbeat{};
    // Largest inbound message (or reply) accepted; checked on its header before it is buffered.
    std::size_t max_message_size = 256u << 20;
    // Bytes of received messages waiting for async_receive before the reader pauses; a paused
    // reader also stops seeing pongs, so keep it large enough for your slowest consumer.
    std::size_t receive_buffer_limit = 64u << 20;
    // Bound on the protocol handshake (the peer's HELLO, Redis HELLO/AUTH, MQTT CONNACK).
    duration handshake_timeout = seconds(10);
    // Bound on the goodbye: writing the last frame (CLOSE, DISCONNECT...) and, after close(),
    // the wait for the peer's EOF. Flushing queued messages first is bounded by the heartbeat.
    duration close_timeout = seconds(2);
    // SO_KEEPALIVE tuned to the heartbeat budget, TCP_USER_TIMEOUT and TCP_NODELAY (TCP only).
    bool tcp_keepalive = true;
    // Awaitable events kept for async_wait_event; the oldest is dropped (and counted) beyond.
    std::size_t event_queue_capacity = 16;
    // Observability (docs/observability.md). `metrics`: the registry this session reports
    // into (null = off). `metrics_labels`: its series' labels (the client and the servers set
    // them; null = role "client", no endpoint or peer; an empty protocol becomes the session's
    // own). Shared, so a session config grows by a pointer, not by four strings. `log`: state
    // changes, the ending and an invalid config as structured records (empty = silent).
    std::shared_ptr<metrics::registry> metrics;
    std::shared_ptr<const metrics::series_labels> metrics_labels;
    log_sink log;
};

// Names the first bad field as "<prefix>.<field>".
std::optional<config_error> validate(const session_options& c, const char* prefix);

} // namespace heartbeat
