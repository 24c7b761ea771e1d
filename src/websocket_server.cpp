#include <heartbeat/websocket_server.hpp>

#include <heartbeat/detail/handshake_deadline.hpp>
#include <heartbeat/detail/peer_address.hpp>
#include <heartbeat/detail/peer_registry.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
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

#include <stdexcept>
#include <variant>

namespace heartbeat {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using tls_stream = asio::ssl::stream<tcp::socket>;

struct websocket_server::state : std::enable_shared_from_this<state> {
    struct peer {
        peer_info info;
        // ws:// or, with config.tls, wss://.
        std::variant<std::unique_ptr<ws_session>, std::unique_ptr<wss_session>> session;

        // f(session) on whichever kind this peer's session is.
        template <class F>
        decltype(auto) with_session(F&& f) {
            return std::visit([&](auto& s) -> decltype(auto) { return f(*s); }, session);
        }
    };

    state(asio::io_context& io, const endpoint_type& endpoint, websocket_server_config cfg,
          server_callbacks cbs)
        : ioc(io), strand(asio::make_strand(io)), acceptor(strand), config(std::move(cfg)),
          callbacks(std::move(cbs)) {
        if (auto e = validate(config.session))
            throw std::invalid_argument(e->message());
        acceptor.open(endpoint.protocol());
        acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(asio::socket_base::max_listen_connections);
    }

    asio::io_context& ioc;
    asio::strand<asio::io_context::executor_type> strand;
    tcp::acceptor acceptor;
    websocket_server_config config;
    server_callbacks callbacks;

    detail::peer_registry<peer> registry;

    bool is_closed() const { return registry.closed(); }

    asio::awaitable<boost::system::error_code> accept_loop() {
        auto self = shared_from_this();
        asio::steady_timer backoff(strand);
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc),
                                                               asio::as_tuple(asio::use_awaitable));
            if (is_closed())
                co_return asio::error::operation_aborted;
            if (ec == asio::error::operation_aborted)
                co_return ec;
            if (ec) {
                // Out of descriptors or a connection reset before accept: wait and go on.
                backoff.expires_after(std::chrono::milliseconds(50));
                co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
                continue;
            }
            const auto ex = socket.get_executor();
            asio::co_spawn(ex, handshake(self, std::move(socket)), [](std::exception_ptr) {});
        }
    }

    // A plain HTTP answer on a connection that did not ask for a WebSocket; then closes it.
    template <class Stream>
    static asio::awaitable<void> respond(Stream& stream, const state& s,
                                         const http::request<http::string_body>& req,
                                         http::status status, const http_page* page) {
        http::response<http::string_body> res{status, req.version()};
        res.set(http::field::server, s.config.server_name);
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

    // TLS first when configured, then the HTTP request: a page or an upgrade. The whole of it
    // is bounded by handshake_timeout.
    static asio::awaitable<void> handshake(std::shared_ptr<state> self, tcp::socket socket) {
        const auto ex = socket.get_executor();
        detail::handshake_deadline deadline(ex, self->config.handshake_timeout, socket);
        if (!self->config.tls) {
            co_await upgrade(self, std::move(socket), deadline);
            co_return;
        }
        tls_stream tls(std::move(socket), *self->config.tls);
        deadline.track(tls.next_layer());
        auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::server,
                                                 asio::as_tuple(asio::use_awaitable));
        if (ec || deadline.expired() || self->is_closed())
            co_return;
        co_await upgrade(self, std::move(tls), deadline);
    }

    template <class Stream>
    static asio::awaitable<void> upgrade(std::shared_ptr<state> self, Stream stream,
                                         detail::handshake_deadline& deadline) {
        const auto& cfg = self->config;
        deadline.track(beast::get_lowest_layer(stream));
        beast::flat_buffer buffer(cfg.max_request_bytes);
        http::request_parser<http::string_body> parser;
        parser.header_limit(
            static_cast<std::uint32_t>(std::min<std::size_t>(cfg.max_request_bytes, 0xFFFFFFFFu)));
        parser.body_limit(cfg.max_request_bytes);
        auto [rec, n] =
            co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
        if (rec || deadline.expired() || self->is_closed())
            co_return;
        const auto& req = parser.get();
        if (!websocket::is_upgrade(req)) {
            const bool get = req.method() == http::verb::get || req.method() == http::verb::head;
            const auto target = std::string_view(req.target().data(), req.target().size());
            auto it = cfg.http_pages.find(std::string(target.substr(0, target.find('?'))));
            if (get && it != cfg.http_pages.end())
                co_await respond(stream, *self, req, http::status::ok, &it->second);
            else
                co_await respond(stream, *self, req, http::status::not_found, nullptr);
            co_return;
        }
        if (self->registry.full(cfg.max_sessions)) {
            co_await respond(stream, *self, req, http::status::service_unavailable, nullptr);
            co_return;
        }
        websocket::stream<Stream> ws(std::move(stream));
        deadline.track(beast::get_lowest_layer(ws));
        websocket::stream_base::timeout opt{};
        opt.handshake_timeout = websocket::stream_base::none(); // our deadline bounds it
        opt.idle_timeout = websocket::stream_base::none();      // the session decides
        opt.keep_alive_pings = false;
        ws.set_option(opt);
        ws.set_option(websocket::stream_base::decorator(
            [name = cfg.server_name](websocket::response_type& res) {
                res.set(http::field::server, name);
            }));
        auto [aec] = co_await ws.async_accept(req, asio::as_tuple(asio::use_awaitable));
        if (aec || deadline.expired())
            co_return;
        deadline.finish();
        admit(self, std::move(ws));
    }

    template <class Stream>
    static void admit(const std::shared_ptr<state>& self, websocket::stream<Stream> ws) {
        boost::system::error_code ec;
        const auto remote = beast::get_lowest_layer(ws).remote_endpoint(ec);
        auto p = std::make_shared<peer>();
        if (!self->registry.accept(*p, ec ? std::string("unknown") : detail::peer_address(remote)))
            return; // closed: the stream's destructor closes the connection
        const auto scb = detail::peer_session_callbacks(self->callbacks, std::weak_ptr<state>(self),
                                                        std::weak_ptr<peer>(p));
        auto owned =
            std::make_unique<websocket_session<Stream>>(std::move(ws), self->config.session, scb);
        auto& session = *owned;
        p->session = std::move(owned);
        // Listed only once its session exists: stats() and send_to() use it from any thread.
        if (!self->registry.insert(p))
            return; // closed meanwhile: the session never ran, its destructor closes the connection
        if (self->callbacks.on_peer_connected)
            self->callbacks.on_peer_connected(p->info); // we are on the peer's strand
        session.async_run([self, p](boost::system::error_code reason) {
            self->registry.remove(p->info.id, reason);
            if (self->callbacks.on_peer_closed)
                self->callbacks.on_peer_closed(p->info, reason);
        });
        asio::co_spawn(session.get_executor(), receive_loop(self, p, session),
                       [](std::exception_ptr) {});
    }

    // Always drains received messages: an unread inbox would eventually pause the reader.
    // `session` is p's; holding `p` keeps it alive.
    template <class Session>
    static asio::awaitable<void> receive_loop(std::shared_ptr<state> self, std::shared_ptr<peer> p,
                                              Session& session) {
        for (;;) {
            auto [ec, message] =
                co_await session.async_receive(asio::as_tuple(asio::use_awaitable));
            if (ec)
                co_return;
            if (self->callbacks.on_message) {
                self->callbacks.on_message(
                    p->info, received_message{message.seq, std::move(message.payload)});
            } else if (self->config.echo) {
                auto [send_ec] = co_await session.async_send(
                    std::move(message.payload), message.kind, asio::as_tuple(asio::use_awaitable));
                if (send_ec)
                    co_return;
            }
        }
    }
};

websocket_server::websocket_server(asio::io_context& ioc, const endpoint_type& endpoint,
                                   websocket_server_config config, server_callbacks callbacks)
    : state_(std::make_shared<state>(ioc, endpoint, std::move(config), std::move(callbacks))) {}

websocket_server::~websocket_server() {
    close();
}

websocket_server::endpoint_type websocket_server::local_endpoint() const {
    return state_->acceptor.local_endpoint();
}

void websocket_server::start_run(
    asio::any_completion_handler<void(boost::system::error_code)> handler) {
    auto s = state_;
    asio::co_spawn(
        s->strand, s->accept_loop(),
        [s, h = std::move(handler)](std::exception_ptr ep, boost::system::error_code ec) mutable {
            if (ep)
                ec = asio::error::fault;
            std::move(h)(ec);
        });
}

bool websocket_server::send_to(std::uint64_t peer_id, std::string message,
                               websocket_message_kind kind) {
    auto p = state_->registry.find(peer_id);
    if (!p)
        return false;
    p->with_session([&](auto& session) {
        session.async_send(std::move(message), kind, [p](boost::system::error_code) {});
    });
    return true;
}

void websocket_server::close() {
    auto s = state_;
    auto peers = s->registry.close();
    if (!peers)
        return;
    asio::post(s->strand, [s] {
        boost::system::error_code ignored;
        s->acceptor.close(ignored);
    });
    for (auto& p : *peers)
        p->with_session([](auto& session) { session.close(); });
}

server_stats websocket_server::stats() const {
    return state_->registry.stats([](state::peer& p) {
        return p.with_session([](auto& session) { return session.stats(); });
    });
}

std::optional<session_stats> websocket_server::peer_stats(std::uint64_t peer_id) const {
    auto p = state_->registry.find(peer_id);
    if (!p)
        return std::nullopt;
    return p->with_session([](auto& session) { return session.stats(); });
}

} // namespace heartbeat
