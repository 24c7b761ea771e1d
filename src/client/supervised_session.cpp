#include <heartbeat/client/supervised_session.hpp>

#include "connect_helpers.hpp"

#include <heartbeat/core/error.hpp>
#include <heartbeat/detail/handshake_deadline.hpp>
#include <heartbeat/protocol/native/native_session.hpp>
#include <heartbeat/protocol/websocket/websocket_session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

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

// A WebSocket session (plain or TLS) for the supervisor. WebSocket has no ACKs: a message
// counts as delivered once written. Messages are sent as binary (their bytes are opaque here)
// and numbered per connection on receipt.
template <class NextLayer>
class websocket_adapter final : public supervised_session {
public:
    using stream_type = typename websocket_session<NextLayer>::stream_type;
    websocket_adapter(stream_type ws, const websocket_session_config& cfg, session_callbacks cb,
                      std::shared_ptr<asio::ssl::context> tls)
        : tls_(std::move(tls)), session_(std::move(ws), cfg, std::move(cb)) {}
    void run(std::function<void(error_code)> done) override { session_.async_run(std::move(done)); }
    void send(std::string m, std::function<void(error_code)> written) override {
        session_.async_send(std::move(m), websocket_message_kind::binary, std::move(written));
    }
    void receive(std::function<void(error_code, received_message)> h) override {
        session_.async_receive([h = std::move(h)](error_code ec, websocket_message m) {
            h(ec, received_message{m.seq, std::move(m.payload)});
        });
    }
    void close() override { session_.close(); }
    void cancel() override { session_.cancel(); }
    bool acknowledges() const noexcept override { return false; }

private:
    std::shared_ptr<asio::ssl::context> tls_; // outlives the stream that uses it
    websocket_session<NextLayer> session_;
};

websocket_session_config websocket_config(const session_config& c,
                                          const websocket_client_config& w) {
    websocket_session_config out;
    out.heartbeat = c.heartbeat;
    out.fragment_size = w.fragment_size;
    out.max_message_size = c.max_message_size;
    out.receive_buffer_limit = c.receive_buffer_limit;
    out.close_timeout = c.close_timeout;
    out.tcp_keepalive = c.tcp_keepalive;
    out.event_queue_capacity = c.event_queue_capacity;
    out.metrics = c.metrics;
    out.metrics_labels = c.metrics_labels;
    out.log = c.log;
    return out;
}

template <class Stream>
void decorate_upgrade(Stream& ws, const std::string& user_agent) {
    namespace websocket = boost::beast::websocket;
    ws.set_option(websocket::stream_base::decorator([user_agent](websocket::request_type& req) {
        req.set(boost::beast::http::field::user_agent, user_agent);
    }));
}

asio::awaitable<connect_result>
websocket_handshake(asio::any_io_executor strand, asio::ip::tcp::socket socket, const endpoint& ep,
                    const session_config& config, session_callbacks callbacks,
                    const connect_options& options, std::shared_ptr<connect_attempt> attempt) {
    namespace websocket = boost::beast::websocket;
    const auto& wo = options.websocket;
    const auto ws_cfg = websocket_config(config, wo);
    handshake_deadline deadline(strand, config.handshake_timeout, socket);
    abort_hook_guard guard(attempt, [&deadline] { deadline.expire_now(); });
    const auto failed = [&](error_code ec) {
        if (aborted(attempt))
            ec = asio::error::operation_aborted;
        else if (deadline.expired())
            ec = error::handshake_timeout;
        return connect_result{ec, nullptr};
    };
    if (ep.scheme == endpoint_scheme::ws) {
        websocket::stream<asio::ip::tcp::socket> ws(std::move(socket));
        deadline.track(ws.next_layer());
        decorate_upgrade(ws, wo.user_agent);
        auto [ec] = co_await ws.async_handshake(ep.host_header(), ep.target,
                                                asio::as_tuple(asio::use_awaitable));
        if (ec || deadline.expired())
            co_return failed(ec);
        deadline.finish();
        co_return connect_result{error_code{},
                                 std::make_shared<websocket_adapter<asio::ip::tcp::socket>>(
                                     std::move(ws), ws_cfg, std::move(callbacks), nullptr)};
    }
    using tls_stream = asio::ssl::stream<asio::ip::tcp::socket>;
    if (!wo.tls_context)
        co_return connect_result{error_code(error::invalid_config), nullptr};
    websocket::stream<tls_stream> ws(std::move(socket), *wo.tls_context);
    deadline.track(boost::beast::get_lowest_layer(ws));
    auto& tls = ws.next_layer();
    if (const error_code setup = prepare_tls_client(tls, ep.host, wo.verify_certificate))
        co_return connect_result{setup, nullptr};
    decorate_upgrade(ws, wo.user_agent);
    auto [tls_ec] = co_await tls.async_handshake(asio::ssl::stream_base::client,
                                                 asio::as_tuple(asio::use_awaitable));
    if (tls_ec || deadline.expired())
        co_return failed(tls_ec);
    auto [ec] = co_await ws.async_handshake(ep.host_header(), ep.target,
                                            asio::as_tuple(asio::use_awaitable));
    if (ec || deadline.expired())
        co_return failed(ec);
    deadline.finish();
    co_return connect_result{error_code{},
                             std::make_shared<websocket_adapter<tls_stream>>(
                                 std::move(ws), ws_cfg, std::move(callbacks), wo.tls_context)};
}

struct resolve_outcome {
    bool done = false;
    error_code ec;
    asio::ip::tcp::resolver::results_type results;
};

// A resolver cannot abandon a getaddrinfo() in progress (cancel() takes effect once it
// returns), so the resolve runs on its own and the attempt waits on a timer that its result,
// the deadline or an abort ends, whichever comes first.
asio::awaitable<std::pair<error_code, std::vector<asio::ip::tcp::endpoint>>>
resolve(asio::any_io_executor strand, const endpoint& ep, duration limit,
        std::shared_ptr<connect_attempt> attempt) {
    auto resolver = std::make_shared<asio::ip::tcp::resolver>(strand);
    auto outcome = std::make_shared<resolve_outcome>();
    auto wake = std::make_shared<asio::steady_timer>(strand);
    wake->expires_after(limit);
    resolver->async_resolve(
        ep.host, ep.port,
        [resolver, outcome, wake](error_code ec, asio::ip::tcp::resolver::results_type r) {
            outcome->done = true;
            outcome->ec = ec;
            outcome->results = std::move(r);
            wake->cancel();
        });
    {
        abort_hook_guard guard(attempt, [wake] { wake->cancel(); });
        if (!aborted(attempt))
            co_await wake->async_wait(asio::as_tuple(asio::use_awaitable));
    }
    std::vector<asio::ip::tcp::endpoint> targets;
    if (!outcome->done) {
        resolver->cancel();
        co_return std::pair{aborted(attempt) ? error_code(asio::error::operation_aborted)
                                             : error_code(error::connect_timeout),
                            std::move(targets)};
    }
    for (const auto& r : outcome->results)
        targets.push_back(r.endpoint());
    co_return std::pair{outcome->ec, std::move(targets)};
}

bool is_address_literal(const std::string& host) {
    error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

} // namespace

error_code prepare_tls_client(asio::ssl::stream<asio::ip::tcp::socket>& tls,
                              const std::string& host, bool verify) {
    error_code setup;
    // SNI carries names only (RFC 6066); certificates of address literals are checked by IP.
    if (!is_address_literal(host) &&
        !SSL_set_tlsext_host_name(tls.native_handle(), const_cast<char*>(host.c_str())))
        return error_code(static_cast<int>(::ERR_get_error()), asio::error::get_ssl_category());
    if (verify) {
        tls.set_verify_mode(asio::ssl::verify_peer, setup);
        if (!setup)
            tls.set_verify_callback(asio::ssl::host_name_verification(host), setup);
    } else {
        tls.set_verify_mode(asio::ssl::verify_none, setup);
    }
    return setup;
}

asio::awaitable<std::pair<error_code, asio::ip::tcp::socket>>
connect_tcp(asio::any_io_executor strand, const endpoint& ep, connect_limits limits,
            std::shared_ptr<connect_attempt> attempt) {
    using namespace asio::experimental::awaitable_operators;
    asio::ip::tcp::socket socket(strand);
    std::vector<asio::ip::tcp::endpoint> targets;
    if (ep.resolved) {
        targets.push_back(*ep.resolved);
    } else {
        auto [ec, resolved] = co_await resolve(strand, ep, limits.resolve_timeout, attempt);
        if (ec)
            co_return std::pair{ec, std::move(socket)};
        targets = std::move(resolved);
    }
    if (aborted(attempt))
        co_return std::pair{error_code(asio::error::operation_aborted), std::move(socket)};
    // Closing the socket ends async_connect at once (and it tries no further address).
    abort_hook_guard guard(attempt, [&socket] {
        error_code ignored;
        socket.close(ignored);
    });
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
    if (aborted(attempt))
        ec = asio::error::operation_aborted;
    co_return std::pair{ec, std::move(socket)};
}

asio::awaitable<connect_result> connect_supervised(asio::any_io_executor strand, const endpoint& ep,
                                                   const session_config& config,
                                                   session_callbacks callbacks,
                                                   const connect_options& options,
                                                   std::shared_ptr<connect_attempt> attempt) {
    auto [ec, socket] = co_await connect_tcp(strand, ep, options.limits, attempt);
    if (ec)
        co_return connect_result{ec, nullptr};
    if (ep.websocket())
        co_return co_await websocket_handshake(strand, std::move(socket), ep, config,
                                               std::move(callbacks), options, attempt);
    if (ep.scheme != endpoint_scheme::native)
        co_return co_await connect_profile_session(strand, std::move(socket), ep, config,
                                                   std::move(callbacks), options, attempt);
    co_return connect_result{error_code{}, std::make_shared<native_session>(
                                               std::move(socket), config, std::move(callbacks))};
}

} // namespace heartbeat::detail
