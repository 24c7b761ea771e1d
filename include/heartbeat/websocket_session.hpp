#pragma once
// websocket_session<NextLayer>: heartbeats over an RFC 6455 WebSocket (Boost.Beast), with the
// same surface as the native basic_session: async_run, async_send, async_receive,
// async_wait_event, close, cancel, stats and session_callbacks. All policy is the sans-io
// heartbeat_monitor's; this class only drives Beast.
//
// Heartbeats are WebSocket ping control frames. Each ping's payload is 16 bytes, big-endian:
// the sequence number (8 bytes) then our send time in microseconds of the steady clock
// (8 bytes). Every RFC 6455 peer (browsers, Node's `ws`, Beast, ...) must answer a ping with a
// pong echoing its payload, so RTT is measured against any of them. A pong is matched to its
// ping by that payload; a pong that matches no ping of ours (unsolicited pongs are allowed by
// RFC 6455 section 5.5.3, and browsers send them) counts as inbound traffic, never as an answer
// and never as a protocol error.
//
// How it runs (on the stream's executor: the reader, the writer and the pinger are driven by the
// completions of their own operations; the heartbeat loop and the run are C++20 coroutines):
//   reader    - one websocket read is always outstanding: Beast answers the peer's pings and
//               reports pongs (through its control callback) only while a read is pending;
//   writer    - writes messages as frames of at most `fragment_size` bytes, one
//               async_write_some per frame, so...
//   pinger    - ...a ping (async_ping) waits for at most one frame: Beast serialises control
//               frames between the frames of a fragmented message, never inside a frame. The
//               pong deadline runs from the moment async_ping completed, i.e. when the ping left;
//   heartbeat - one timer driven by the heartbeat_monitor.
// (A ping still queues behind bytes already handed to the kernel: a large send buffer on a slow
// link delays pongs however small the frames are, exactly as for the native protocol.)
// Beast's own idle timeout and keep-alive pings are switched off (stream_base::timeout with
// idle_timeout = none, keep_alive_pings = false) so the two mechanisms never fight.
//
// Endings: on a verdict the session sends a close frame with code 1011 (internal error, reason
// "peer_dead") if the transport still accepts writes, then tears the connection down without
// waiting for the peer's reply; close() flushes queued messages, sends code 1000 (normal) and
// waits for the peer's close frame. Both are bounded by `close_timeout`.
//
// Application-level heartbeat (websocket_app_heartbeat, off by default): a pong proves only
// that the peer's WebSocket *transport* is alive. When that transport can outlive the
// application -- a reverse proxy or load balancer that terminates WebSockets and answers pings
// itself, a browser whose network service keeps answering while the page's JavaScript thread
// is wedged, a server whose I/O thread answers while its worker pool is deadlocked -- enable it
// (and use liveness_mode::pong_only so the transport's traffic is not taken for proof of
// life). The heartbeats are then small text messages
//     {"hb":"ping","seq":N,"t":T}
// ("hb" is the configurable `key`) which the application on the other side must send back:
// either unchanged (any echo does that) or as {"hb":"pong","seq":N,"t":T}. A session with the
// app heartbeat enabled answers such pings from its peer with the pong form itself and never
// delivers heartbeat messages to async_receive. Control pings are not sent in this mode (Beast
// still answers the peer's). Being data messages, these heartbeats cannot overtake a message
// that is halfway written; they go out at the next message boundary, ahead of queued messages.
// Size pong_timeout for the peer application's slowest answer (a busy event loop, a GC pause),
// not for the network's: the app heartbeat measures the application, so it also reports a
// merely slow one. Leave it off when the peer's pong already comes from the application itself
// (a Beast, ws or similar server in the same process as its logic), which is the common case.
//
// Threading: every member function may be called from any thread; work is dispatched to the
// stream's executor. On a multi-threaded io_context give the stream a strand executor.
// Completions: never inline. A send or receive whose handler's associated executor is the
// stream's is completed straight from the run loop (inside the write or read completion that
// finished it, so without another trip through the scheduler); any other handler is posted
// and runs on its own executor. An exception thrown by a handler leaves io_context::run().
// async_send called on the stream's executor writes the message's first frame before it
// returns when nothing else is being written.
//
// Lifetime: the session must outlive its async_run operation; async_send / async_receive /
// async_wait_event complete (with the reason the session ended) before async_run does.
//
// The run loop is compiled once (src/websocket_instantiations.cpp) for plain TCP and TLS over
// TCP; include <heartbeat/detail/websocket_session_impl.hpp> in one .cpp of yours and write
// `template class heartbeat::websocket_session<your_next_layer>;` for another next layer.
#include <heartbeat/detail/handler_box.hpp>
#include <heartbeat/error.hpp>
#include <heartbeat/session.hpp>
#include <heartbeat/session_events.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/websocket/stream_fwd.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace heartbeat {

enum class websocket_message_kind { binary, text };
const char* to_string(websocket_message_kind k) noexcept;

// A received WebSocket message.
struct websocket_message {
    std::string payload;
    websocket_message_kind kind = websocket_message_kind::binary;
    std::uint64_t seq = 0; // 1 for the first message received on this connection, and so on
    bool text() const noexcept { return kind == websocket_message_kind::text; }
};

// See "Application-level heartbeat" above.
struct websocket_app_heartbeat {
    bool enabled = false;
    // The JSON key of the heartbeat messages: {"<key>":"ping","seq":N,"t":T}. Letters, digits,
    // '_' and '-' only, 1 to 32 of them.
    std::string key = "hb";
};

struct websocket_session_config {
    monitor_config heartbeat{};

    // Outgoing messages are written as frames of at most this many bytes (one async_write_some
    // each), so a ping waits for at most one frame. Beast's auto_fragment is switched off.
    std::size_t fragment_size = 64u * 1024;
    // Largest inbound message (Beast's read_message_max): a bigger one fails the connection
    // with close code 1009 and the session ends with error::message_too_large.
    std::size_t max_message_size = 64u << 20;
    // Bytes of received messages waiting for async_receive before the reader pauses. A paused
    // reader also stops answering pings and seeing pongs: keep it large enough for your
    // slowest consumer.
    std::size_t receive_buffer_limit = 64u << 20;
    // Bound on the ending: flushing queued messages after close(), writing the close frame and
    // (after close()) waiting for the peer's close frame.
    duration close_timeout = seconds(2);
    // As session_config::tcp_keepalive: SO_KEEPALIVE tuned to the heartbeat budget, and
    // TCP_USER_TIMEOUT, TCP_NODELAY on the underlying TCP socket.
    bool tcp_keepalive = true;
    // Awaitable events kept for async_wait_event; the oldest is dropped (and counted) beyond.
    std::size_t event_queue_capacity = 256;
    websocket_app_heartbeat app_heartbeat{};
};

std::optional<config_error> validate(const websocket_session_config& c);

namespace detail {

// Wire formats of the heartbeats (src/websocket_session.cpp).

// Ping payload: seq (8 bytes) then send time in µs (8 bytes), both big-endian.
inline constexpr std::size_t ws_ping_payload_size = 16;
std::string encode_ws_ping(std::uint64_t seq, std::uint64_t send_time_us);
bool decode_ws_ping(std::string_view payload, std::uint64_t& seq, std::uint64_t& send_time_us);

// Application-level heartbeat: {"<key>":"ping"|"pong","seq":N,"t":T}.
struct app_heartbeat_message {
    bool ping = true;
    std::uint64_t seq = 0;
    std::uint64_t send_time_us = 0;
};
std::string encode_app_heartbeat(std::string_view key, const app_heartbeat_message& m);
std::optional<app_heartbeat_message> parse_app_heartbeat(std::string_view key,
                                                         std::string_view text);

// What a failed websocket read or write means for the session.
boost::system::error_code map_websocket_error(boost::system::error_code ec);

} // namespace detail

template <class NextLayer>
class websocket_session {
public:
    using next_layer_type = NextLayer;
    using stream_type = boost::beast::websocket::stream<NextLayer>;
    using executor_type = typename NextLayer::executor_type;
    using send_handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;
    using receive_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, websocket_message)>;
    using event_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, session_event)>;
    using run_handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;
    // What async_send / async_receive keep: coroutine handlers as they are, others erased.
    using send_box =
        detail::handler_box<send_handler, detail::awaitable_handler_t<boost::system::error_code>,
                            detail::awaitable_tuple_handler_t<boost::system::error_code>>;
    using receive_box = detail::handler_box<
        receive_handler, detail::awaitable_handler_t<boost::system::error_code, websocket_message>,
        detail::awaitable_tuple_handler_t<boost::system::error_code, websocket_message>>;

    // Takes an open WebSocket: the caller has completed async_handshake (client role) or
    // async_accept (server role), and for TLS the TLS handshake before that. The session sets
    // the stream's options (timeouts off, read_message_max, auto_fragment off, control
    // callback) when async_run starts.
    explicit websocket_session(stream_type ws, websocket_session_config config = {},
                               session_callbacks callbacks = {});
    ~websocket_session();
    websocket_session(const websocket_session&) = delete;
    websocket_session& operator=(const websocket_session&) = delete;

    executor_type get_executor() const noexcept { return executor_; }
    stream_type& stream() noexcept { return *ws_; }
    const websocket_session_config& config() const noexcept { return config_; }

    // Runs the session until it ends; completes with why: error::peer_dead (verdict),
    // error::peer_closed (close frame, EOF or reset from the peer), error::session_closed
    // (close() called), error::message_too_large, error::invalid_config, a Beast WebSocket
    // protocol error (boost::beast::websocket::error), a transport error, or
    // asio::error::operation_aborted after cancel() or cancellation through the handler's
    // cancellation slot (any type). Call once. Signature: void(boost::system::error_code).
    // Never completes inline.
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_run(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [this](auto handler) { start_run(run_handler(std::move(handler))); }, token);
    }

    // Queues one binary message; completes once its last frame was written to the transport,
    // or with the reason the session ended before that. Messages go out in order.
    // Cancellation (any type) withdraws a message whose first frame is not written yet
    // (operation_aborted); a message being written is never cut.
    // Signature: void(boost::system::error_code).
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    requires(
        !std::is_same_v<std::decay_t<CompletionToken>,
                        websocket_message_kind>) auto async_send(std::string message,
                                                                 CompletionToken&& token = {}) {
        return initiate_send<CompletionToken>(std::move(message), websocket_message_kind::binary,
                                              token);
    }

    // As above, as a text (kind == text: the payload must be valid UTF-8) or binary message.
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_send(std::string message, websocket_message_kind kind,
                    CompletionToken&& token = {}) {
        return initiate_send<CompletionToken>(std::move(message), kind, token);
    }

    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_send_text(std::string message, CompletionToken&& token = {}) {
        return async_send(std::move(message), websocket_message_kind::text,
                          std::forward<CompletionToken>(token));
    }

    // Receives the next whole message with its kind. One receive may be outstanding at a time
    // (a second completes with asio::error::already_started). Once the session has ended,
    // queued messages are still delivered, then the end reason is reported.
    // Signature: void(boost::system::error_code, websocket_message). Cancellable (all types).
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_receive(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, websocket_message)>(
            [this](auto handler) {
                const bool direct = runs_on_our_executor(handler);
                start_receive(receive_box(std::move(handler)), direct);
            },
            token);
    }

    // Next session event (state change, RTT sample, verdict, local stall, ended), in order.
    // Signature: void(boost::system::error_code, session_event); after the `ended` event has
    // been taken, completes with the end reason. Cancellable (all types).
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_wait_event(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, session_event)>(
            [this](auto handler) { start_wait_event(event_handler(std::move(handler))); }, token);
    }

    // Flushes queued messages, sends a close frame (1000, normal) and ends the session with
    // error::session_closed once the peer answered it (or after close_timeout). Any thread.
    void close();

    // Ends the session at once with asio::error::operation_aborted: no close frame, the
    // connection is torn down. Any thread.
    void cancel();

    // A consistent snapshot; safe from any thread. bytes_* count message payload bytes;
    // frames_sent counts data frames written (application heartbeats included),
    // frames_received completed reads of message data (at least one per non-empty frame);
    // pings_answered counts the peer's pings (Beast answers control pings itself) and, with the
    // app heartbeat, its heartbeat messages we answered. delivered_seq is the websocket_message
    // seq of the last message delivered. duplicates_dropped, peer_acked, ping_strikes and
    // slow_downs_* stay 0: WebSocket has no such notions.
    session_stats stats() const;

private:
    struct run_loops;

    // The payload by reference: the public overloads take it by value, once. CompletionToken
    // is given explicitly (as the public overload deduced it), so an lvalue token is copied.
    template <class CompletionToken>
    auto initiate_send(std::string&& message, websocket_message_kind kind, CompletionToken& token) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [this, kind](auto handler, std::string&& msg) {
                const bool direct = runs_on_our_executor(handler);
                start_send(std::move(msg), kind, send_box(std::move(handler)), direct);
            },
            token, std::move(message));
    }

    void start_run(run_handler handler);
    // `direct`: the handler would run on our executor anyway (see runs_on_our_executor), so
    // the run loop may invoke it directly when it completes the operation from inside another
    // operation's completion, instead of a trip through the scheduler.
    void start_send(std::string&& message, websocket_message_kind kind, send_box&& handler,
                    bool direct);
    void start_receive(receive_box&& handler, bool direct);
    // The same, on our executor.
    void send_here(std::string&& message, websocket_message_kind kind, send_box&& handler,
                   bool direct);
    void receive_here(receive_box&& handler, bool direct);

    // Decided on the concrete handler type, before type erasure: asking an
    // any_completion_handler for its executor builds a type-erased executor every time.
    template <class Handler>
    bool runs_on_our_executor(const Handler& handler) const {
        auto ex = boost::asio::get_associated_executor(handler, executor_);
        if constexpr (std::is_same_v<decltype(ex), executor_type>)
            return ex == executor_;
        else
            return false;
    }
    void start_wait_event(event_handler handler);

    std::unique_ptr<stream_type> ws_;
    executor_type executor_;
    websocket_session_config config_;
    session_callbacks callbacks_;
    std::unique_ptr<run_loops> loops_; // the run loop's state, defined in the implementation
    std::unique_ptr<detail::session_shared_stats> shared_;
};

using ws_session = websocket_session<boost::asio::ip::tcp::socket>;
using wss_session = websocket_session<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;

extern template class websocket_session<boost::asio::ip::tcp::socket>;
extern template class websocket_session<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;

} // namespace heartbeat
