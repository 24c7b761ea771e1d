#pragma once
// heartbeat::client, the supervisor: keeps one logical connection alive across dead peers.
//
//   endpoints -> connect -> run a session -> verdict or close -> backoff (full jitter, only
//   when every endpoint failed in a row) -> next endpoint per policy -> ...
//
// While on a less preferred endpoint it probes the preferred ones in the background and fails
// back after `healthy_probes` good probes and `min_dwell`, after draining the current session
// so the switch delivers nothing twice.
//
// Endpoints speak the native protocol (HOST:PORT) or WebSocket (ws://, wss://; see
// endpoint.hpp and client_config::websocket), mixed freely in one failover list; probes use
// the endpoint's own protocol. The `connected` event comes once the protocol handshake is done
// (native: the peer's HELLO; WebSocket: the TLS handshake and the upgrade).
//
// Delivery contract (client -> server):
//  * Every message gets a sequence number (1, 2, ...) in the logical session and stays in a
//    bounded resend buffer until the server ACKs it; after a reconnect the unacknowledged ones
//    are re-sent, in order, before any new message.
//  * Reconnecting to the same server (resumed by session id): exactly-once, in order.
//  * Failover to a different server: at-least-once, in order; the receiving application sees the
//    sequence number (received_message::seq) and can drop duplicates.
//  * A full resend buffer makes async_send wait (back-pressure); nothing is dropped.
//  * Over WebSocket (RFC 6455 has no ACKs) a message counts as delivered once it was written
//    to the transport: what a dead peer's kernel took before the verdict is not re-sent;
//    what was not yet written is, to the next endpoint.
// Server -> client messages are delivered in order per connection; across a reconnect, messages
// the server sent but the client did not receive are not re-sent (the server side keeps no
// resend buffer).
//
// Threading: the client runs on its own strand of the executor it is given; every member
// function may be called from any thread. The client must outlive its async_run operation.
#include <heartbeat/client/client_config.hpp>
#include <heartbeat/client/client_events.hpp>
#include <heartbeat/client/endpoint.hpp>
#include <heartbeat/session/session_events.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>

#include <memory>
#include <string>
#include <vector>

namespace heartbeat {

class client {
public:
    using executor_type = boost::asio::any_io_executor;

    // Throws std::invalid_argument when `endpoints` is empty.
    client(executor_type executor, std::vector<endpoint> endpoints, client_config config = {},
           client_event_callback on_event = {});
    ~client();
    client(const client&) = delete;
    client& operator=(const client&) = delete;

    executor_type get_executor() const noexcept;

    // Runs until close() (error::session_closed), cancellation (operation_aborted), the give-up
    // rule (error::all_endpoints_failed) or an invalid config (error::invalid_config).
    // Signature: void(boost::system::error_code). Never completes inline.
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_run(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken, void(boost::system::error_code)>(
            [this](auto h) { start_run(run_handler(std::move(h))); }, token);
    }

    // Accepts a message into the resend buffer (waiting while it is full) and completes with its
    // sequence number; delivery follows the contract above. Works whether or not a session is
    // up. Signature: void(boost::system::error_code, std::uint64_t seq). Cancellable while it
    // waits for buffer space.
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_send(std::string message, CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, std::uint64_t)>(
            [this](auto h, std::string m) { start_send(std::move(m), send_handler(std::move(h))); },
            token, std::move(message));
    }

    // Next message from whichever server the client is connected to.
    // Signature: void(boost::system::error_code, received_message). Cancellable.
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_receive(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, received_message)>(
            [this](auto h) { start_receive(receive_handler(std::move(h))); }, token);
    }

    // Next supervisor event, in order. Signature: void(boost::system::error_code, client_event).
    template <class CompletionToken = boost::asio::default_completion_token_t<executor_type>>
    auto async_wait_event(CompletionToken&& token = {}) {
        return boost::asio::async_initiate<CompletionToken,
                                           void(boost::system::error_code, client_event)>(
            [this](auto h) { start_wait_event(event_handler(std::move(h))); }, token);
    }

    // Flushes the current session, closes it and ends async_run with error::session_closed.
    // A connection attempt in progress (resolve, connect, TLS or WebSocket handshake) is
    // abandoned at once rather than after its timeout. Messages still unacknowledged stay
    // readable through unacked_messages().
    void close();
    // Ends the current session or connection attempt at once (no flush); async_run completes
    // with operation_aborted.
    void cancel();

    client_stats stats() const;
    // Messages not (yet) acknowledged by a server, oldest first. Call it on the client's
    // executor or after async_run has completed.
    std::vector<received_message> unacked_messages() const;
    std::uint64_t session_id() const noexcept;

private:
    using run_handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;
    using send_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, std::uint64_t)>;
    using receive_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, received_message)>;
    using event_handler =
        boost::asio::any_completion_handler<void(boost::system::error_code, client_event)>;

    void start_run(run_handler h);
    void start_send(std::string message, send_handler h);
    void start_receive(receive_handler h);
    void start_wait_event(event_handler h);

    struct impl;
    std::shared_ptr<impl> impl_;
};

} // namespace heartbeat
