#pragma once
// A deadline on a connection's handshakes (TLS, HTTP upgrade): when it passes first, the TCP
// socket under them is closed, so every pending TLS or Beast operation on it fails and the
// awaiting coroutine goes on. Beast and TLS operations cannot be cancelled one at a time without
// failing the stream, and a connection whose handshake timed out is dropped anyway.
//
// The socket moves as the connection is wrapped (socket -> TLS stream -> WebSocket stream):
// track() follows it. All calls and the timer's handler run on the connection's strand, and the
// socket is touched only while the deadline is armed, i.e. while its owner awaits a handshake.
#include <heartbeat/core/clock.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include <memory>

namespace heartbeat::detail {

class handshake_deadline {
public:
    handshake_deadline(const boost::asio::any_io_executor& strand, duration limit,
                       boost::asio::ip::tcp::socket& socket)
        : timer_(strand), state_(std::make_shared<state>()) {
        state_->socket = &socket;
        timer_.expires_after(limit);
        timer_.async_wait([s = state_](boost::system::error_code ec) {
            if (!ec)
                s->expire();
        });
    }
    ~handshake_deadline() { finish(); }
    handshake_deadline(const handshake_deadline&) = delete;
    handshake_deadline& operator=(const handshake_deadline&) = delete;

    // The socket now lives here (it was moved into a wrapping stream).
    void track(boost::asio::ip::tcp::socket& socket) {
        if (state_->socket)
            state_->socket = &socket;
    }
    // Disarms the deadline; call before the socket moves on for good.
    void finish() {
        state_->socket = nullptr;
        timer_.cancel();
    }
    // Ends the handshake now, as if the deadline had passed (an aborted connection attempt).
    void expire_now() { state_->expire(); }
    // True when the deadline passed (and closed the socket).
    bool expired() const noexcept { return state_->expired; }

private:
    struct state {
        boost::asio::ip::tcp::socket* socket = nullptr;
        bool expired = false;
        void expire() {
            if (!socket)
                return;
            expired = true;
            boost::system::error_code ignored;
            socket->close(ignored);
        }
    };
    boost::asio::steady_timer timer_;
    std::shared_ptr<state> state_;
};

} // namespace heartbeat::detail
