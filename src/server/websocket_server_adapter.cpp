#include <heartbeat/server/websocket_server_adapter.hpp>

#include <heartbeat/detail/handshake_deadline.hpp>
#include <heartbeat/server/server_core.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/stream_traits.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/rfc6455.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <algorithm>
#include <stdexcept>
#include <string_view>

namespace heartbeat {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using tls_stream = asio::ssl::stream<tcp::socket>;
using core_type = websocket_server_adapter::core_type;

namespace {

// A plain HTTP answer on a connection that did not ask for a WebSocket; then closes it.
template <class Stream>
asio::awaitable<void> respond(Stream& stream, const websocket_server_config& config,
                              const http::request<http::string_body>& req, http::status status,
                              const http_page* page) {
    http::response<http::string_body> res{status, req.version()};
    res.set(http::field::server, config.server_name);
    res.keep_alive(false);
    if (page) {
        res.set(http::field::content_type, page->content_type);
        if (req.method() != http::verb::head)
            res.body() = page->body;
        res.prepare_payload();
        if (req.method() == http::verb::head)
            res.content_length(page->body.size());
    } else {
        res.set(http::field::content_type, "text/plain; charset=utf-8");
        res.body() = std::string(http::obsolete_reason(status)) + "\n";
        res.prepare_payload();
    }
    co_await http::async_write(stream, res, asio::as_tuple(asio::use_awaitable));
    boost::system::error_code ignored;
    beast::get_lowest_layer(stream).shutdown(tcp::socket::shutdown_send, ignored);
}

// The HTTP request: a page, a refusal over max_sessions, or the upgrade and the session.
template <class Stream>
asio::awaitable<void> upgrade(std::shared_ptr<core_type> core, Stream stream, std::string address,
                              detail::handshake_deadline& deadline) {
    const auto& cfg = core->adapter().config();
    deadline.track(beast::get_lowest_layer(stream));
    beast::flat_buffer buffer(cfg.max_request_bytes);
    http::request_parser<http::string_body> parser;
    parser.header_limit(
        static_cast<std::uint32_t>(std::min<std::size_t>(cfg.max_request_bytes, 0xFFFFFFFFu)));
    parser.body_limit(cfg.max_request_bytes);
    auto [rec, n] =
        co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
    if (rec || deadline.expired() || core->closed())
        co_return;
    const auto& req = parser.get();
    if (!websocket::is_upgrade(req)) {
        const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
        const auto target = std::string_view(req.target().data(), req.target().size());
        auto it = cfg.http_pages.find(std::string(target.substr(0, target.find('?'))));
        if (get && it != cfg.http_pages.end())
            co_await respond(stream, cfg, req, http::status::ok, &it->second);
        else
            co_await respond(stream, cfg, req, http::status::not_found, nullptr);
        co_return;
    }
    if (core->full()) {
        co_await respond(stream, cfg, req, http::status::service_unavailable, nullptr);
        co_return;
    }
    websocket::stream<Stream> ws(std::move(stream));
    deadline.track(beast::get_lowest_layer(ws));
    websocket::stream_base::timeout opt{};
    opt.handshake_timeout = websocket::stream_base::none(); // our deadline bounds it
    opt.idle_timeout = websocket::stream_base::none();      // the session decides
    opt.keep_alive_pings = false;
    ws.set_option(opt);
    ws.set_option(
        websocket::stream_base::decorator([name = cfg.server_name](websocket::response_type& res) {
            res.set(http::field::server, name);
        }));
    auto [aec] = co_await ws.async_accept(req, asio::as_tuple(asio::use_awaitable));
    if (aec || deadline.expired())
        co_return;
    deadline.finish();
    core->admit(std::move(ws), std::move(address)); // we are on the peer's strand
}

// TLS first when configured, then the HTTP request. The whole of it is bounded by
// handshake_timeout.
asio::awaitable<void> handshake(std::shared_ptr<core_type> core, tcp::socket socket,
                                std::string address) {
    const auto& cfg = core->adapter().config();
    detail::handshake_deadline deadline(socket.get_executor(), cfg.handshake_timeout, socket);
    if (!cfg.tls) {
        co_await upgrade(core, std::move(socket), std::move(address), deadline);
        co_return;
    }
    tls_stream tls(std::move(socket), *cfg.tls);
    deadline.track(tls.next_layer());
    auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::server,
                                             asio::as_tuple(asio::use_awaitable));
    if (ec || deadline.expired() || core->closed())
        co_return;
    co_await upgrade(core, std::move(tls), std::move(address), deadline);
}

} // namespace

websocket_server_adapter::websocket_server_adapter(websocket_server_config config)
    : config_(std::move(config)) {
    detail::adopt_server_observability(config_.session, config_.metrics, config_.log);
    if (auto e = validate(config_.session)) {
        log_to(config_.session.log, log_level::error, "invalid config",
               {{"field", e->field}, {"value", e->value}, {"reason", e->reason}});
        throw std::invalid_argument(e->message());
    }
    shared_session_config_ = std::make_shared<const websocket_session_config>(config_.session);
}

void websocket_server_adapter::on_accepted(const std::shared_ptr<core_type>& core,
                                           tcp::socket socket, std::string address) const {
    const auto ex = socket.get_executor();
    asio::co_spawn(ex, handshake(core, std::move(socket), std::move(address)), asio::detached);
}

void websocket_server_adapter::close_transport(ws_session& session) {
    boost::system::error_code ignored;
    beast::get_lowest_layer(session.stream()).close(ignored);
}

void websocket_server_adapter::close_transport(wss_session& session) {
    boost::system::error_code ignored;
    beast::get_lowest_layer(session.stream()).close(ignored);
}

} // namespace heartbeat
