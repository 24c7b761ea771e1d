#pragma once
// What the client supervisor needs from a session, whatever its protocol (native over TCP,
// WebSocket): run, send, receive, close. One small virtual interface keeps the supervisor's
// coroutine free of every session's templates.
#include <heartbeat/endpoint.hpp>
#include <heartbeat/session_config.hpp>
#include <heartbeat/session_events.hpp>

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
    // the supervisor releases a message as soon as it is written.
    virtual bool acknowledges() const noexcept = 0;
};

struct connect_limits {
    duration resolve_timeout;
    duration connect_timeout;
};

using connect_result = std::pair<boost::system::error_code, std::shared_ptr<supervised_session>>;

// Resolves (each attempt, with a timeout), connects (with a timeout) and performs the protocol
// handshake the endpoint's scheme calls for. The session is returned not yet running.
boost::asio::awaitable<connect_result> connect_supervised(boost::asio::any_io_executor strand,
                                                          const endpoint& ep,
                                                          const session_config& config,
                                                          session_callbacks callbacks,
                                                          connect_limits limits);

// Resolve + TCP connect only.
boost::asio::awaitable<std::pair<boost::system::error_code, boost::asio::ip::tcp::socket>>
connect_tcp(boost::asio::any_io_executor strand, const endpoint& ep, connect_limits limits);

} // namespace heartbeat::detail
