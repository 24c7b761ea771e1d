#pragma once
// basic_session<Stream>: the native heartbeat protocol over any connected Asio byte stream
// (TCP, Unix domain socket, TLS after its handshake, or your own AsyncReadStream +
// AsyncWriteStream).
//
// One run per session does three strands of work on the stream's executor:
//   reader    - reads frames, answers pings, reassembles messages, feeds the monitor (driven
//               by the completions of its own reads);
//   writer    - writes control frames (PING, PONG, ACK, CLOSE) ahead of queued data, cutting
//               messages into chunks so a heartbeat never waits for more than one chunk (plain
//               callbacks, started directly by whoever queues something);
//   heartbeat - one timer driven by the sans-io heartbeat_monitor (plain callbacks).
// No coroutine frame lives while the session runs; only the farewell (the CLOSE frame and the
// bounded wait for the peer's EOF) is a coroutine, spawned when the session ends.
//
// Threading: every member function may be called from any thread; the work is dispatched to
// the stream's executor. If the io_context runs on several threads, give the stream a strand
// executor (asio::make_strand) — callbacks then never run concurrently.
//
// Lifetime: the session must outlive its async_run operation; async_send/async_receive
// operations complete (with the reason the session ended) before async_run does.
#include <heartbeat/detail/handler_box.hpp>
#include <heartbeat/error.hpp>
#include <heartbeat/session_config.hpp>
#include <heartbeat/session_events.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/local/stream_protocol.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/system_executor.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace heartbeat {

namespace detail {
struct session_shared_stats; // thread-safe mirror of the stats, defined in the implementation

// Adapts a void(error_code, std::string) handler to the message-level receive, keeping the
// handler's associated executor, allocator and cancellation slot.
template <class Handler>
struct payload_only {
    Handler handler;
    void operator()(boost::system::error_code ec, received_message m) {
        std::move(handler)(ec, std::move(m.payload));
    }
};
} // namespace detail
} // namespace heartbeat

template <template <class, class> class Associator, class Handler, class DefaultCandidate>
struct boost::asio::associator<Associator, heartbeat::detail::payload_only<Handler>,
                               DefaultCandidate> : Associator<Handler, DefaultCandidate> {
    static typename Associator<Handler, DefaultCandidate>::type
    get(const heartbeat::detail::payload_only<Handler>& h) noexcept {
        return Associator<Handler, DefaultCandidate>::get(h.handler);
    }
    static auto get(const heartbeat::detail::payload_only<Handler>& h,
                    const DefaultCandidate& c) noexcept
        -> decltype(Associator<Handler, DefaultCandidate>::get(h.handler, c)) {
        return Associator<Handler, DefaultCandidate>::get(h.handler, c);
    }
};

namespace heartbeat {

template <class Stream>
class basic_session {
public:
    using stream_type = Stream;
    using executor_type = typename Stream::executor_type;
    using send_handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;
    using receive_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, received_message)>;
    using event_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, session_event)>;
    using run_handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

    // Takes a connected stream (for TLS: after the TLS handshake).
    explicit basic_session(Stream stream, session_config config = {},
                           session_callbacks callbacks = {});
    ~basic_session();
    basic_session(const basic_session&) = delete;
    basic_session& operator=(const basic_session&) = delete;

    executor_type get_executor() noexcept { return stream_.get_executor(); }
    Stream& stream() noexcept { return stream_; }
    const session_config& config() const noexcept { return config_; }

    // Runs the session until it ends; completes with why: error::peer_dead (verdict),
    // error::peer_closed (CLOSE frame, EOF or reset from the peer), error::too_many_pings,
    // error::session_closed (close() called), a protocol error (frame_too_large,
    // unknown_frame_type, malformed_frame, truncated_frame, unexpected_pong, data_before_hello,
    // unsupported_version, incompatible_interval, handshake_timeout, message_too_large),
    // error::invalid_config, a transport error, or asio::error::operation_aborted when the
    // operation was cancelled through its cancellation slot (any cancellation type).
    // Call once. Signature: void(boost::system::error_code). Never completes inline.
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_run(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [this](auto handler) { start_run(run_handler(std::move(handler))); }, token);
    }

    // Queues one application message; completes once it was fully written to the transport,
    // or with the reason the session ended before that. Messages are delivered to the peer in
    // order. Cancellation (terminal/partial/total) removes a message that has not started
    // writing and completes with operation_aborted; a message being written is not cut.
    // Signature: void(boost::system::error_code).
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_send(std::string message, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [this](auto handler, std::string&& msg) {
                const bool direct = runs_on_our_executor(handler);
                start_send(std::move(msg), send_box(std::move(handler)), direct);
            },
            token, std::move(message));
    }

    // Receives the next whole message. One receive may be outstanding at a time (a second
    // completes with asio::error::already_started). Once the session has ended, queued
    // messages are still delivered, then the end reason is reported.
    // Signature: void(boost::system::error_code, std::string). Cancellable (all types).
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_receive(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, std::string)>(
            [this](auto handler) {
                const bool direct = runs_on_our_executor(handler);
                start_receive(receive_box(detail::payload_only<std::decay_t<decltype(handler)>>{
                                  std::move(handler)}),
                              direct);
            },
            token);
    }

    // As async_receive, with the message's sequence number in the logical session.
    // Signature: void(boost::system::error_code, received_message).
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_receive_message(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, received_message)>(
            [this](auto handler) {
                const bool direct = runs_on_our_executor(handler);
                start_receive(receive_box(std::move(handler)), direct);
            },
            token);
    }

    // Next session event (state change, RTT sample, verdict, local stall, interval, ended), in
    // order. Signature: void(boost::system::error_code, session_event); after the `ended`
    // event has been taken, completes with the end reason. Cancellable (all types).
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_wait_event(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, session_event)>(
            [this](auto handler) { start_wait_event(event_handler(std::move(handler))); }, token);
    }

    // Flushes queued messages, sends CLOSE and ends the session with error::session_closed.
    // Safe from any thread.
    void close();

    // Cancels async_run: ends the session with asio::error::operation_aborted. Any thread.
    void cancel();

    // A consistent snapshot; safe from any thread.
    session_stats stats() const;

private:
    // The handlers of the coroutine tokens are kept unerased (see handler_box).
    using send_box =
        detail::handler_box<send_handler, detail::awaitable_handler_t<boost::system::error_code>,
                            detail::awaitable_tuple_handler_t<boost::system::error_code>>;
    using receive_box = detail::handler_box<
        receive_handler,
        detail::payload_only<detail::awaitable_handler_t<boost::system::error_code, std::string>>,
        detail::payload_only<
            detail::awaitable_tuple_handler_t<boost::system::error_code, std::string>>,
        detail::awaitable_handler_t<boost::system::error_code, received_message>,
        detail::awaitable_tuple_handler_t<boost::system::error_code, received_message>>;

    struct outgoing_message {
        std::string payload;
        std::size_t offset = 0;
        send_box handler;
        std::uint64_t id = 0;
        bool withdrawn = false; // cancelled before it started; skipped by the writer
        std::uint64_t seq = 0;  // sequence number in the logical session
        bool direct = false;    // the handler runs on our executor: invoke it without dispatch
    };
    struct run_loops;

    void start_run(run_handler handler);
    void start_send(std::string&& message, send_box&& handler, bool direct);
    void start_receive(receive_box&& handler, bool direct);
    void send_here(std::string&& message, send_box&& handler, bool direct);
    void receive_here(receive_box&& handler, bool direct);

    // True when `handler` would run on this session's executor anyway, so the run loop, which
    // completes operations from inside other completions on that executor, may invoke it
    // directly instead of paying for asio::dispatch through a type-erased executor.
    // (Asked without our executor as the default candidate, which would cost two copies of a
    // type-erased executor per operation: a handler with no executor of its own gets ours.)
    template <class Handler>
    bool runs_on_our_executor(const Handler& handler) {
        using with_ours = boost::asio::associated_executor_t<Handler, executor_type>;
        using with_system = boost::asio::associated_executor_t<Handler>;
        if constexpr (!std::is_same_v<with_ours, executor_type>)
            return false;
        else if constexpr (std::is_same_v<with_system, boost::asio::system_executor>)
            return true; // no associated executor: the default candidate, ours
        else
            return is_our_executor(boost::asio::get_associated_executor(handler));
    }
    bool is_our_executor(const executor_type& ex);
    void start_wait_event(event_handler handler);

    Stream stream_;
    session_config config_;
    session_callbacks callbacks_;
    std::unique_ptr<run_loops> loops_; // the run loop's state, defined in the implementation
    std::unique_ptr<detail::session_shared_stats> shared_;
};

using tcp_session = basic_session<boost::asio::ip::tcp::socket>;
using unix_session = basic_session<boost::asio::local::stream_protocol::socket>;
using tls_session = basic_session<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;

extern template class basic_session<boost::asio::ip::tcp::socket>;
extern template class basic_session<boost::asio::local::stream_protocol::socket>;
extern template class basic_session<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;

} // namespace heartbeat
