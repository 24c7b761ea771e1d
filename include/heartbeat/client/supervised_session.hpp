#pragma once
// What the client supervisor needs from a session, whatever its protocol (native over TCP,
// WebSocket over TCP or TLS): run, send, receive, close. One small virtual interface keeps the
// supervisor's coroutine free of every session's templates.
#include <heartbeat/client/client_config.hpp>
#include <heartbeat/client/endpoint.hpp>
#include <heartbeat/protocol/native/session_config.hpp>
#include <heartbeat/session/session_events.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <functional>
#include <memory>
#include <utility>

namespace heartbeat::detail {

class supervised_session {
public:
    virtual ~supervised_session() = default;
    virtual void run(std::function<void(boost::system::error_code)> done) = 0;
    // `written` runs once the message was fully written, or failed.
    virtual void send(std::string message,
                      std::function<void(boost::system::error_code)> written) = 0;
    virtual void receive(std::function<void(boost::system::error_code, received_message)> h) = 0;
    virtual void close() = 0;
    virtual void cancel() = 0;
    // True when the peer acknowledges delivered sequence numbers (native protocol). Otherwise
    // (WebSocket) the supervisor releases a message as soon as it is written.
    virtual bool acknowledges() const noexcept = 0;
};

struct connect_limits {
    duration resolve_timeout;
    duration connect_timeout;
};

struct connect_options {
    connect_limits limits;
    // ws:// and wss:// endpoints; for every TLS scheme (wss, rediss, mqtts, lines) the TLS
    // context and verify_certificate too: the client fills in its default context.
    websocket_client_config websocket;
};

using connect_result = std::pair<boost::system::error_code, std::shared_ptr<supervised_session>>;

// Lets the supervisor stop a connection attempt in progress (client::close(), cancel()) at once
// instead of after its resolve, connect or handshake timeout. Used on the strand only.
class connect_attempt {
public:
    // Whatever the attempt awaits fails now; it then completes with operation_aborted.
    void abort() {
        aborted_ = true;
        if (hook_)
            hook_();
    }
    bool aborted() const noexcept { return aborted_; }

    // While set, abort() calls `hook` (it cancels the resolver's wait, closes the socket...).
    // The attempt clears it before what the hook touches goes away.
    void set_abort_hook(std::function<void()> hook) {
        hook_ = std::move(hook);
        if (aborted_ && hook_)
            hook_();
    }
    void clear_abort_hook() { hook_ = nullptr; }

private:
    bool aborted_ = false;
    std::function<void()> hook_;
};

// Resolves (each attempt, with a timeout), connects (with a timeout) and performs the handshake
// the endpoint's scheme calls for before returning the session, not yet running:
//   native - none here: the session exchanges HELLO itself (bounded by
//            config.handshake_timeout) once it runs;
//   ws     - the WebSocket upgrade, bounded by config.handshake_timeout;
//   wss    - the TLS handshake (SNI set, certificate verified unless
//            websocket.verify_certificate is false) then the upgrade, both together bounded by
//            config.handshake_timeout.
// Errors: the resolver's or the socket's, error::connect_timeout, error::handshake_timeout,
// a TLS error (boost::asio::ssl::error category, e.g. a certificate that fails verification),
// a Beast WebSocket error (e.g. websocket::error::upgrade_declined when the server answers
// the upgrade with anything but 101), or operation_aborted after `attempt->abort()`.
// `attempt` may be null.
boost::asio::awaitable<connect_result>
connect_supervised(boost::asio::any_io_executor strand, const endpoint& ep,
                   const session_config& config, session_callbacks callbacks,
                   const connect_options& options,
                   std::shared_ptr<connect_attempt> attempt = nullptr);

// redis/rediss, mqtt/mqtts, line/lines: over the connected `socket` (after the TLS handshake for
// the TLS schemes, bounded by config.handshake_timeout), the session of the endpoint's protocol
// profile, configured from `config` and the endpoint's options; its own handshake (HELLO/AUTH,
// CONNECT) runs when it runs.
boost::asio::awaitable<connect_result>
connect_profile_session(boost::asio::any_io_executor strand, boost::asio::ip::tcp::socket socket,
                        const endpoint& ep, const session_config& config,
                        session_callbacks callbacks, const connect_options& options,
                        std::shared_ptr<connect_attempt> attempt);

// Resolve + TCP connect only.
boost::asio::awaitable<std::pair<boost::system::error_code, boost::asio::ip::tcp::socket>>
connect_tcp(boost::asio::any_io_executor strand, const endpoint& ep, connect_limits limits,
            std::shared_ptr<connect_attempt> attempt = nullptr);

} // namespace heartbeat::detail
