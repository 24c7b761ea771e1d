#include "status_http_server.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <map>
#include <optional>
#include <vector>

namespace heartbeat::cli {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

class http_connection;

struct status_http_server::state {
    state(asio::io_context& ioc, const tcp::endpoint& at, status_http_routes r,
          status_http_limits l)
        : acceptor(ioc, at), routes(std::move(r)), limits(l),
          live(l.live_heartbeat, l.max_live_clients) {}

    tcp::acceptor acceptor;
    status_http_routes routes;
    status_http_limits limits;
    live_channel live;
    std::map<std::uint64_t, std::weak_ptr<http_connection>> connections;
    std::uint64_t next_id = 0;
    bool closing = false;
};

namespace {

constexpr std::string_view prometheus_content_type = "text/plain; version=0.0.4; charset=utf-8";
constexpr duration websocket_handshake_timeout = seconds(10);

std::string_view path_of(std::string_view target) {
    return target.substr(0, target.find('?'));
}

} // namespace

// One HTTP connection: reads requests (one at a time, keep-alive honoured) and answers them, or
// hands its socket to the live channel on a /live upgrade.
class http_connection : public std::enable_shared_from_this<http_connection> {
public:
    using state = status_http_server::state;

    http_connection(std::shared_ptr<state> st, std::uint64_t id, tcp::socket socket)
        : st_(std::move(st)), id_(id), stream_(std::move(socket)) {}

    ~http_connection() { st_->connections.erase(id_); }

    void start() { read(); }

    void stop() {
        boost::system::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.close();
    }

private:
    void read() {
        parser_.emplace();
        parser_->header_limit(static_cast<std::uint32_t>(st_->limits.max_header_bytes));
        parser_->body_limit(0); // only GET and HEAD are served: a body is a bad request
        stream_.expires_after(st_->limits.idle_timeout);
        http::async_read(stream_, buffer_, *parser_,
                         [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
                             self->on_read(ec);
                         });
    }

    void on_read(boost::system::error_code ec) {
        if (st_->closing)
            return stop();
        if (ec == http::error::header_limit)
            return respond(http::status::request_header_fields_too_large, "text/plain",
                           "request head too large\n", false, false);
        if (ec && ec.category() == http::make_error_code(http::error::bad_target).category() &&
            ec != http::error::end_of_stream && ec != http::error::partial_message)
            return respond(http::status::bad_request, "text/plain", "bad request\n", false, false);
        if (ec) // EOF, reset, idle timeout: nothing to answer
            return stop();

        auto& req = parser_->get();
        const std::string_view path = path_of(req.target());
        if (websocket::is_upgrade(req)) {
            if (path != "/live")
                return respond(http::status::not_found, "text/plain", "not found\n", false, false);
            if (st_->live.full())
                return respond(http::status::service_unavailable, "text/plain",
                               "too many live clients\n", false, false);
            return upgrade();
        }
        const bool keep = req.keep_alive();
        const bool head = req.method() == http::verb::head;
        const bool get_or_head = head || req.method() == http::verb::get;
        const auto known = [&](std::string_view p) { return path == p; };
        if (!(known("/") || known("/index.html") || known("/metrics") || known("/status.json") ||
              known("/live")))
            return respond(http::status::not_found, "text/plain", "not found\n", keep, head);
        if (!get_or_head)
            return respond(http::status::method_not_allowed, "text/plain", "only GET and HEAD\n",
                           keep, head, true);
        if (known("/metrics"))
            return respond(http::status::ok, prometheus_content_type, st_->routes.metrics(), keep,
                           head);
        if (known("/status.json"))
            return respond(http::status::ok, "application/json", st_->routes.status_json(), keep,
                           head);
        if (known("/live"))
            return respond(http::status::upgrade_required, "text/plain", "/live is a WebSocket\n",
                           keep, head);
        return respond(http::status::ok, "text/html; charset=utf-8", st_->routes.page, keep, head);
    }

    void respond(http::status status, std::string_view content_type, std::string body,
                 bool keep_alive, bool head, bool allow_header = false) {
        res_ = {};
        res_.version(11);
        res_.result(status);
        res_.set(http::field::server, "heartbeat");
        res_.set(http::field::content_type, content_type);
        res_.set(http::field::cache_control, "no-store");
        if (allow_header)
            res_.set(http::field::allow, "GET, HEAD");
        res_.keep_alive(keep_alive);
        res_.content_length(body.size());
        if (!head)
            res_.body() = std::move(body);
        http::async_write(
            stream_, res_,
            [self = shared_from_this(), keep_alive](boost::system::error_code ec, std::size_t) {
                if (ec || !keep_alive || self->st_->closing)
                    return self->stop();
                self->read();
            });
    }

    // The socket leaves this connection (which then ends) for a WebSocket, whose session the
    // live channel runs once the upgrade is done.
    void upgrade() {
        stream_.expires_never();
        auto request = std::make_shared<http::request<http::empty_body>>(parser_->release());
        auto ws = std::make_shared<websocket::stream<tcp::socket>>(stream_.release_socket());
        ws->set_option(websocket::stream_base::timeout{websocket_handshake_timeout,
                                                       websocket::stream_base::none(), false});
        ws->set_option(websocket::stream_base::decorator(
            [](websocket::response_type& res) { res.set(http::field::server, "heartbeat"); }));
        ws->async_accept(*request, [st = st_, ws, request](boost::system::error_code ec) {
            if (ec || st->closing)
                return;
            st->live.add(std::move(*ws), st->routes.live_snapshot());
        });
    }

    std::shared_ptr<state> st_;
    std::uint64_t id_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    std::optional<http::request_parser<http::empty_body>> parser_;
    http::response<http::string_body> res_;
};

namespace {

void accept_next(const std::shared_ptr<status_http_server::state>& st) {
    st->acceptor.async_accept([st](boost::system::error_code ec, tcp::socket socket) {
        if (st->closing || ec == asio::error::operation_aborted)
            return;
        if (!ec) {
            if (st->connections.size() >= st->limits.max_connections) {
                // Over the limit: a fixed 503, then the socket closes (the buffer is static).
                static constexpr std::string_view busy =
                    "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                    "Connection: close\r\n\r\n";
                auto s = std::make_shared<tcp::socket>(std::move(socket));
                asio::async_write(*s, asio::buffer(busy),
                                  [s](boost::system::error_code, std::size_t) {
                                      boost::system::error_code ignored;
                                      s->shutdown(tcp::socket::shutdown_both, ignored);
                                      s->close(ignored);
                                  });
            } else {
                const auto id = st->next_id++;
                auto c = std::make_shared<http_connection>(st, id, std::move(socket));
                st->connections.emplace(id, c);
                c->start();
            }
        }
        accept_next(st);
    });
}

} // namespace

status_http_server::status_http_server(asio::io_context& ioc, const tcp::endpoint& at,
                                       status_http_routes routes, status_http_limits limits)
    : state_(std::make_shared<state>(ioc, at, std::move(routes), limits)) {}

status_http_server::~status_http_server() {
    state_->closing = true;
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
}

tcp::endpoint status_http_server::local_endpoint() const {
    return state_->acceptor.local_endpoint();
}

void status_http_server::start() {
    accept_next(state_);
}

void status_http_server::broadcast(const std::string& message) {
    state_->live.broadcast(message);
}

void status_http_server::close() {
    state_->closing = true;
    boost::system::error_code ignored;
    state_->acceptor.close(ignored);
    // Collected first: a connection that ends erases itself from the map.
    std::vector<std::shared_ptr<http_connection>> open;
    for (auto& [id, weak] : state_->connections)
        if (auto c = weak.lock())
            open.push_back(std::move(c));
    for (auto& c : open)
        c->stop();
    state_->live.close();
}

bool status_http_server::finished() const {
    return state_->connections.empty() && state_->live.size() == 0;
}

std::size_t status_http_server::live_clients() const {
    return state_->live.size();
}

} // namespace heartbeat::cli
