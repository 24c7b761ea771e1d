#pragma once
// session<Link>: one heartbeat session over one connection, whatever its protocol. The session
// core (session_core.hpp) is written once: pending operations, inbox and send queue with
// back-pressure, stats, events, the heartbeat monitor and its timer, and the ending. A link
// supplies the I/O of one protocol family:
//   stream_link<Profile, Stream>  any connected byte stream (TCP, TLS, Unix, your own) and a
//                                 sans-io protocol profile: native, RESP, MQTT, line, yours;
//   websocket_link<NextLayer>     a Beast WebSocket stream (control-frame or app heartbeats).
// The aliases name the usual ones: tcp_session, ws_session, redis_session, mqtt_session, ...
//
// Threading: every member function may be called from any thread; the work is dispatched to the
// stream's executor. If the io_context runs on several threads, give the stream a strand
// executor (asio::make_strand) — callbacks then never run concurrently.
//
// Completions: never inline. A send or receive whose handler's associated executor is the
// stream's is completed straight from the run loop (inside the read or write completion that
// finished it); any other handler is posted and runs on its own executor. An exception thrown by
// a handler leaves io_context::run().
//
// Lifetime: the session must outlive its async_run operation; async_send / async_receive /
// async_wait_event complete (with the reason the session ended) before async_run does.
#include <heartbeat/core/error.hpp>
#include <heartbeat/detail/handler_box.hpp>
#include <heartbeat/session/session_events.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/associator.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/system_executor.hpp>

#include <concepts>
#include <memory>
#include <string>
#include <type_traits>

namespace heartbeat {

namespace detail {
struct session_shared_stats; // thread-safe mirror of the stats (session_core.hpp)
template <class Link>
struct session_core;

// Adapts a void(error_code, std::string) handler to a message-level receive, keeping the
// handler's associated executor, allocator and cancellation slot.
template <class Handler>
struct payload_only {
    Handler handler;
    template <class Message>
    void operator()(boost::system::error_code ec, Message m) {
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

template <class Link>
class session {
public:
    using link_type = Link;
    using stream_type = typename Link::stream_type;
    using executor_type = typename Link::executor_type;
    using config_type = typename Link::config_type;
    // What async_receive_message delivers; has a `std::string payload` member.
    using message_type = typename Link::message_type;
    // Per-message options of async_send (the WebSocket message kind); an empty struct elsewhere.
    using send_options = typename Link::send_options;

    using send_handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;
    using receive_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, message_type)>;
    using event_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, session_event)>;
    using run_handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

    // Takes a connected stream (for TLS: after the TLS handshake; for WebSocket: after the
    // upgrade). The protocol's own handshake (HELLO, Redis HELLO/AUTH, MQTT CONNECT) is the
    // session's, bounded by the config's handshake_timeout.
    explicit session(stream_type stream, config_type config = {}, session_callbacks callbacks = {});
    // The same with a config shared by many sessions (a server's sessions share one): one copy
    // for them all instead of one each, which counts at tens of thousands of sessions. A null
    // one is invalid: async_run completes with error::invalid_config.
    // (A template only so that `session(stream, {}, callbacks)` still means a default config.)
    template <class Config>
    requires std::same_as<Config, config_type> session(stream_type stream,
                                                       std::shared_ptr<const Config> config,
                                                       session_callbacks callbacks = {})
        : session(shared_config_tag{}, std::move(stream), std::move(config), std::move(callbacks)) {
    }
    ~session();
    session(const session&) = delete;
    session& operator=(const session&) = delete;

    executor_type get_executor() const noexcept { return executor_; }
    stream_type& stream() noexcept { return Link::stream_of(stream_); }
    const config_type& config() const noexcept { return *config_; }

    // Runs the session until it ends; completes with why: error::peer_dead (verdict),
    // error::peer_closed (goodbye, EOF or reset from the peer), error::session_closed (close()),
    // error::invalid_config, a protocol error of the link (see its header), a transport error,
    // or asio::error::operation_aborted after cancel() or cancellation through the handler's
    // cancellation slot (any type). Call once. Signature: void(boost::system::error_code).
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_run(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [this](auto handler) { start_run(run_handler(std::move(handler))); }, token);
    }

    // Queues one application message; completes once it was fully written to the transport, or
    // with the reason the session ended before that; error::invalid_message (the session goes
    // on) when the profile refuses the payload (not one RESP command, a line with a newline...).
    // Messages go out in order. Cancellation (any type) withdraws a message none of whose bytes
    // are written yet (operation_aborted); a message being written is never cut.
    // Signature: void(boost::system::error_code).
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    requires(!std::is_same_v<std::decay_t<CompletionToken>, send_options>) auto async_send(
        std::string message, CompletionToken&& token = {}) {
        return initiate_send<CompletionToken>(std::move(message), send_options{}, token);
    }

    // As above, with options (the WebSocket message kind: text payloads must be valid UTF-8).
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    requires(!std::is_empty_v<send_options>) auto async_send(std::string message,
                                                             send_options options,
                                                             CompletionToken&& token = {}) {
        return initiate_send<CompletionToken>(std::move(message), options, token);
    }

    // A text message, for links whose options are a message kind with a `text` value.
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    requires requires { send_options::text; }
    auto async_send_text(std::string message, CompletionToken&& token = {}) {
        return initiate_send<CompletionToken>(std::move(message), send_options::text, token);
    }

    // Receives the next whole message: its payload where the link says so (native sessions:
    // void(error_code, std::string)), else the whole message_type. One receive may be
    // outstanding at a time (a second completes with asio::error::already_started). Once the
    // session has ended, queued messages are still delivered, then the end reason is reported.
    // Cancellable (all types).
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_receive(CompletionToken&& token = {}) {
        if constexpr (Link::receive_payload_only) {
            return boost::asio::async_initiate<CompletionToken,
                                               void(boost::system::error_code, std::string)>(
                [this](auto handler) {
                    const bool direct = runs_on_our_executor(handler);
                    start_receive(receive_box(detail::payload_only<std::decay_t<decltype(handler)>>{
                                      std::move(handler)}),
                                  direct);
                },
                token);
        } else {
            return async_receive_message(std::forward<CompletionToken>(token));
        }
    }

    // The next whole message with what the link knows of it (sequence number, kind...).
    // Signature: void(boost::system::error_code, message_type).
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_receive_message(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, message_type)>(
            [this](auto handler) {
                const bool direct = runs_on_our_executor(handler);
                start_receive(receive_box(std::move(handler)), direct);
            },
            token);
    }

    // Next session event (state change, RTT sample, verdict, local stall, interval, ended), in
    // order. Signature: void(boost::system::error_code, session_event); after the `ended` event
    // has been taken, completes with the end reason. Cancellable (all types).
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_wait_event(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, session_event)>(
            [this](auto handler) { start_wait_event(event_handler(std::move(handler))); }, token);
    }

    // Flushes queued messages, says goodbye (CLOSE, close frame 1000, MQTT DISCONNECT...) and
    // ends the session with error::session_closed. Any thread.
    void close();

    // Ends the session at once with asio::error::operation_aborted. Any thread.
    void cancel();

    // A consistent snapshot; safe from any thread.
    session_stats stats() const;

    // The handlers of the coroutine tokens are kept unerased (see handler_box).
    using send_box =
        detail::handler_box<send_handler, detail::awaitable_handler_t<boost::system::error_code>,
                            detail::awaitable_tuple_handler_t<boost::system::error_code>>;
    using receive_box = detail::handler_box<
        receive_handler,
        detail::payload_only<detail::awaitable_handler_t<boost::system::error_code, std::string>>,
        detail::payload_only<
            detail::awaitable_tuple_handler_t<boost::system::error_code, std::string>>,
        detail::awaitable_handler_t<boost::system::error_code, message_type>,
        detail::awaitable_tuple_handler_t<boost::system::error_code, message_type>>;

private:
    friend struct detail::session_core<Link>;

    struct shared_config_tag {};
    session(shared_config_tag, stream_type stream, std::shared_ptr<const config_type> config,
            session_callbacks callbacks);

    // The payload by reference: the public overloads take it by value, once. CompletionToken
    // is given explicitly (as the public overload deduced it), so an lvalue token is copied.
    template <class CompletionToken>
    auto initiate_send(std::string&& message, send_options options, CompletionToken& token) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [this, options](auto handler, std::string&& msg) {
                const bool direct = runs_on_our_executor(handler);
                start_send(std::move(msg), options, send_box(std::move(handler)), direct);
            },
            token, std::move(message));
    }

    void start_run(run_handler handler);
    // `direct`: the handler would run on our executor anyway (see runs_on_our_executor), so the
    // run loop may invoke it directly when it completes the operation from inside another
    // operation's completion, instead of a trip through the scheduler.
    void start_send(std::string&& message, send_options options, send_box&& handler, bool direct);
    void start_receive(receive_box&& handler, bool direct);
    void start_wait_event(event_handler handler);
    void send_here(std::string&& message, send_options options, send_box&& handler, bool direct);
    void receive_here(receive_box&& handler, bool direct);

    // True when `handler` would run on this session's executor anyway. Decided on the concrete
    // handler type, before type erasure, and without our executor as the default candidate
    // (which would cost two copies of a type-erased executor per operation): a handler with no
    // executor of its own gets ours.
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
    bool is_our_executor(const executor_type& ex) const noexcept { return ex == executor_; }

    // The stream itself, or (WebSocket) a pointer to it, which keeps Beast's heavy stream
    // templates out of this header.
    typename Link::stream_storage stream_;
    // The stream's executor, kept: asking the stream returns a copy of a type-erased executor,
    // which costs more per operation than these bytes per session.
    executor_type executor_;
    std::shared_ptr<const config_type> config_; // never null
    session_callbacks callbacks_;
    std::unique_ptr<detail::session_core<Link>> core_; // null when the config is invalid
    std::unique_ptr<detail::session_shared_stats> shared_;
};

} // namespace heartbeat
