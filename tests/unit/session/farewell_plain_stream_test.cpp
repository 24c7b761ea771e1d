// close() over a stream that has only what session_stream requires (plus cancel(ec)), without
// per-operation cancellation, against a peer that never answers: the goodbye is bounded by
// close_timeout all the same. The farewell races its write and its wait for the peer's EOF
// against a timer; the timer's win must end the stream's operation itself, since asking it
// through a cancellation slot that the stream never reads would wait for it forever.
// (Found by fuzz/line_session_fuzzer: a silent peer and close() hung every profile.)
#include <heartbeat/protocol/native/native_session.hpp>
#include <heartbeat/session/stream_session_impl.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/append.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using io_handler = asio::any_completion_handler<void(boost::system::error_code, std::size_t)>;

// Reads never complete and, with `writes_hang`, neither do writes after the first (the HELLO),
// until cancel(ec) or close(ec): a peer that went silent (and, with writes_hang, stopped
// reading too).
class unanswered_stream {
public:
    using executor_type = asio::any_io_executor;
    struct parked {
        std::optional<io_handler> read, write;
    };

    unanswered_stream(executor_type ex, bool writes_hang)
        : ex_(std::move(ex)), writes_hang_(writes_hang), parked_(std::make_shared<parked>()) {}

    executor_type get_executor() const { return ex_; }

    template <class Buffers, class Token>
    auto async_read_some(const Buffers&, Token&& token) {
        return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this](auto handler) { parked_->read.emplace(std::move(handler)); }, token);
    }

    template <class Buffers, class Token>
    auto async_write_some(const Buffers& buffers, Token&& token) {
        return asio::async_initiate<Token, void(boost::system::error_code, std::size_t)>(
            [this, n = asio::buffer_size(buffers)](auto handler) {
                if (writes_hang_ && ++writes_ > 1)
                    parked_->write.emplace(std::move(handler));
                else
                    asio::post(ex_,
                               asio::append(std::move(handler), boost::system::error_code{}, n));
            },
            token);
    }

    void cancel(boost::system::error_code& ec) {
        ec = {};
        release(parked_->read);
        release(parked_->write);
    }
    void close(boost::system::error_code& ec) { cancel(ec); }

private:
    void release(std::optional<io_handler>& h) {
        if (!h)
            return;
        io_handler handler = std::move(*h);
        h.reset();
        asio::post(
            ex_, asio::append(std::move(handler), asio::error::operation_aborted, std::size_t{0}));
    }

    executor_type ex_;
    bool writes_hang_;
    int writes_ = 0;
    std::shared_ptr<parked> parked_;
};

using plain_session = heartbeat::basic_session<unanswered_stream>;

// Runs close() at once and returns how the run ended, or nullopt if it did not within 10 s.
std::optional<boost::system::error_code> close_against_silence(bool writes_hang,
                                                               std::chrono::milliseconds& took) {
    asio::io_context ioc;
    heartbeat::session_config config;
    config.close_timeout = 50ms;
    config.tcp_keepalive = false;
    // Nothing but close_timeout may end the goodbye within the test's bound.
    config.handshake_timeout = std::chrono::hours(1);
    config.heartbeat.interval = std::chrono::hours(1);
    config.heartbeat.pong_timeout = std::chrono::hours(1);
    plain_session session(unanswered_stream(ioc.get_executor(), writes_hang), config);
    std::optional<boost::system::error_code> ended;
    session.async_run([&](boost::system::error_code ec) { ended = ec; });
    const auto start = std::chrono::steady_clock::now();
    session.close();
    for (int i = 0; i < 100 && !ended; ++i)
        ioc.run_one_for(100ms);
    took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                 start);
    if (!ended)
        session.cancel(); // let the test end either way
    for (int i = 0; i < 100 && !ended; ++i)
        ioc.run_one_for(100ms);
    return ended && took < 10s ? ended : std::nullopt;
}

TEST(FarewellPlainStream, CloseAgainstAPeerThatNeverClosesEndsAfterCloseTimeout) {
    std::chrono::milliseconds took{};
    const auto ended = close_against_silence(false, took);
    ASSERT_TRUE(ended.has_value()) << "async_run did not complete within 10 s of close()";
    EXPECT_EQ(*ended, heartbeat::error::session_closed);
    EXPECT_GE(took, 50ms); // it did wait for the peer's EOF, up to close_timeout
    EXPECT_LT(took, 3s);   // and no longer (generous: the machine may be loaded)
}

TEST(FarewellPlainStream, CloseAgainstAPeerThatNeverReadsEndsAfterCloseTimeout) {
    std::chrono::milliseconds took{};
    const auto ended = close_against_silence(true, took);
    ASSERT_TRUE(ended.has_value()) << "async_run did not complete within 10 s of close()";
    EXPECT_EQ(*ended, heartbeat::error::session_closed);
    EXPECT_GE(took, 50ms);
    EXPECT_LT(took, 3s);
}

} // namespace
