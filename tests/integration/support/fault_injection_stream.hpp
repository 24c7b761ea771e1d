#pragma once
// A stream that fails its Nth read, write or handshake with a chosen error, as Beast's
// test::fail_count and Boost.MySQL's fault tests do, wrapped around a real stream (a connected
// TCP socket on loopback) so everything else it does is real. Tests run an operation for
// N = 1, 2, ... until it completes without reaching step N: every step of the operation has then
// failed once with that error.
//
// The failed step completes with (error, 0) through the scheduler, never inline, like a real
// one; the real stream is left as it was, so what follows is the session's reaction alone.
// lowest_layer() and next_layer() expose the socket, so the session cancels, shuts down and
// closes it as it would a plain one (session/stream_control.hpp), and Beast finds it too.
#include <boost/asio/append.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/system/error_code.hpp>

#include <array>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace heartbeat::test {

enum class fault_step { read, write, handshake };

inline const char* to_string(fault_step s) {
    switch (s) {
    case fault_step::read:
        return "read";
    case fault_step::write:
        return "write";
    case fault_step::handshake:
        return "handshake";
    }
    return "?";
}

// The errors a transport really reports, each injected in turn.
inline std::vector<boost::system::error_code> transport_errors() {
    namespace e = boost::asio::error;
    return {e::connection_reset,  e::eof,
            e::broken_pipe,       e::timed_out,
            e::operation_aborted, boost::asio::ssl::error::stream_truncated};
}

// Which step fails, with what; shared by the test and the stream (which the session owns).
struct fault_plan {
    fault_step step = fault_step::read;
    std::size_t fail_at = 0; // 1-based; 0: never
    boost::system::error_code error;
    std::array<std::size_t, 3> started{}; // steps of each kind begun so far
    bool fired = false;                   // the failing step has begun
    bool delivered = false;               // ...and completed: the session has seen the error
    // Called as the failed step completes (not when it begins: an operation may be under way
    // when the application calls close(), and then the error reaches a session that is closing).
    std::function<void()> on_delivered;

    static std::shared_ptr<fault_plan> make(fault_step step, std::size_t fail_at,
                                            boost::system::error_code error) {
        auto p = std::make_shared<fault_plan>();
        p->step = step;
        p->fail_at = fail_at;
        p->error = error;
        return p;
    }
    static std::shared_ptr<fault_plan> never() { return std::make_shared<fault_plan>(); }

    // Counts a step of kind `s`; true when it is the one to fail.
    bool take(fault_step s) {
        const std::size_t n = ++started[static_cast<std::size_t>(s)];
        if (fired || s != step || n != fail_at)
            return false;
        fired = true;
        return true;
    }
    void deliver() {
        delivered = true;
        if (on_delivered)
            on_delivered();
    }
    std::size_t count(fault_step s) const { return started[static_cast<std::size_t>(s)]; }
};

template <class NextLayer>
class fault_injection_stream {
public:
    using next_layer_type = NextLayer;
    using lowest_layer_type = typename NextLayer::lowest_layer_type;
    using executor_type = typename NextLayer::executor_type;

    fault_injection_stream(NextLayer next, std::shared_ptr<fault_plan> plan)
        : next_(std::move(next)), plan_(std::move(plan)) {}

    executor_type get_executor() { return next_.get_executor(); }
    NextLayer& next_layer() noexcept { return next_; }
    const NextLayer& next_layer() const noexcept { return next_; }
    lowest_layer_type& lowest_layer() noexcept { return next_.lowest_layer(); }
    const lowest_layer_type& lowest_layer() const noexcept { return next_.lowest_layer(); }
    fault_plan& plan() noexcept { return *plan_; }

    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        if (plan_->take(fault_step::read))
            return fail<Token, void(boost::system::error_code, std::size_t)>(token, std::size_t{0});
        return next_.async_read_some(buffers, std::forward<Token>(token));
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        if (plan_->take(fault_step::write))
            return fail<Token, void(boost::system::error_code, std::size_t)>(token, std::size_t{0});
        return next_.async_write_some(buffers, std::forward<Token>(token));
    }

    // For layers that have one (TLS): the handshake is a step of its own.
    template <class HandshakeType, class Token>
    auto async_handshake(HandshakeType type, Token&& token) {
        if (plan_->take(fault_step::handshake))
            return fail<Token, void(boost::system::error_code)>(token);
        return next_.async_handshake(type, std::forward<Token>(token));
    }

private:
    // Completes the operation with the planned error, through the scheduler.
    template <class Token, class Signature, class... Extra>
    auto fail(Token& token, Extra... extra) {
        return boost::asio::async_initiate<Token, Signature>(
            [this](auto handler, auto... values) {
                // Both run from the one io_context, in order, one right after the other.
                boost::asio::post(get_executor(), [plan = plan_] { plan->deliver(); });
                boost::asio::post(get_executor(),
                                  boost::asio::append(std::move(handler), plan_->error, values...));
            },
            token, extra...);
    }

    NextLayer next_;
    std::shared_ptr<fault_plan> plan_;
};

} // namespace heartbeat::test
