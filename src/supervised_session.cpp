#include <heartbeat/detail/supervised_session.hpp>

#include <heartbeat/error.hpp>
#include <heartbeat/session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace heartbeat::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

class native_session final : public supervised_session {
public:
    native_session(asio::ip::tcp::socket socket, const session_config& cfg, session_callbacks cb)
        : session_(std::move(socket), cfg, std::move(cb)) {}
    void run(std::function<void(error_code)> done) override { session_.async_run(std::move(done)); }
    void send(std::string m, std::function<void(error_code)> written) override {
        session_.async_send(std::move(m), std::move(written));
    }
    void receive(std::function<void(error_code, received_message)> h) override {
        session_.async_receive_message(std::move(h));
    }
    void close() override { session_.close(); }
    void cancel() override { session_.cancel(); }
    bool acknowledges() const noexcept override { return true; }

private:
    tcp_session session_;
};

} // namespace

asio::awaitable<std::pair<error_code, asio::ip::tcp::socket>>
connect_tcp(asio::any_io_executor strand, const endpoint& ep, connect_limits limits) {
    using namespace asio::experimental::awaitable_operators;
    asio::ip::tcp::socket socket(strand);
    std::vector<asio::ip::tcp::endpoint> targets;
    if (ep.resolved) {
        targets.push_back(*ep.resolved);
    } else {
        asio::ip::tcp::resolver resolver(strand);
        asio::steady_timer timer(strand);
        timer.expires_after(limits.resolve_timeout);
        auto result = co_await (
            resolver.async_resolve(ep.host, ep.port, asio::as_tuple(asio::use_awaitable)) ||
            timer.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (result.index() == 1)
            co_return std::pair{error_code(error::connect_timeout), std::move(socket)};
        auto [ec, results] = std::get<0>(std::move(result));
        if (ec)
            co_return std::pair{ec, std::move(socket)};
        for (const auto& r : results)
            targets.push_back(r.endpoint());
    }
    asio::steady_timer timer(strand);
    timer.expires_after(limits.connect_timeout);
    auto result =
        co_await (asio::async_connect(socket, targets, asio::as_tuple(asio::use_awaitable)) ||
                  timer.async_wait(asio::as_tuple(asio::use_awaitable)));
    if (result.index() == 1) {
        error_code ignored;
        socket.close(ignored);
        co_return std::pair{error_code(error::connect_timeout), std::move(socket)};
    }
    auto [ec, connected] = std::get<0>(std::move(result));
    co_return std::pair{ec, std::move(socket)};
}

asio::awaitable<connect_result> connect_supervised(asio::any_io_executor strand, const endpoint& ep,
                                                   const session_config& config,
                                                   session_callbacks callbacks,
                                                   connect_limits limits) {
    auto [ec, socket] = co_await connect_tcp(strand, ep, limits);
    if (ec)
        co_return connect_result{ec, nullptr};
    co_return connect_result{error_code{}, std::make_shared<native_session>(
                                               std::move(socket), config, std::move(callbacks))};
}

} // namespace heartbeat::detail
