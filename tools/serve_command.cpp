#include "serve_command.hpp"

#include "endpoint_arg.hpp"
#include "graceful_stop.hpp"
#include "json_events.hpp"
#include "status_feed.hpp"
#include "status_service.hpp"
#include "usage_error.hpp"

#include <heartbeat/core/error.hpp>
#include <heartbeat/server/server.hpp>
#include <heartbeat/server/websocket_server.hpp>

#include <boost/asio/ssl/context.hpp>

#include <cstdio>
#include <optional>

namespace heartbeat::cli {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::int64_t to_ms(duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// The events, and (with --http) the status board's rows, one per peer.
server_callbacks make_callbacks(event_writer& out, status_service* status) {
    const auto fed = [status](auto&& feed) {
        if (status) {
            feed(status->board());
            status->changed();
        }
    };
    server_callbacks cb;
    cb.on_peer_connected = [&out, fed](const peer_info& p) {
        out.emit(event_line("peer_connected").subject("peer", p.address));
        fed([&](status_board& b) { b.on_established(p.address, clock::now()); });
    };
    cb.on_peer_state = [fed](const peer_info& p, peer_state, peer_state to, unsigned missed) {
        fed([&](status_board& b) {
            b.on_state(p.address, to_row_state(to), missed, clock::now());
        });
    };
    cb.on_peer_rtt = [fed](const peer_info& p, duration rtt, duration srtt) {
        fed([&](status_board& b) { b.on_rtt(p.address, rtt, srtt, clock::now()); });
    };
    cb.on_peer_dead = [&out, fed](const peer_info& p, const verdict& v) {
        out.emit(event_line("peer_dead")
                     .subject("peer", p.address)
                     .field("reason", error_name(v.reason))
                     .field("missed", v.missed)
                     .field("silent_ms", to_ms(v.silence)));
        fed([&](status_board& b) {
            b.on_verdict(p.address, error_name(v.reason), v.missed, clock::now());
        });
    };
    cb.on_peer_closed = [&out, fed](const peer_info& p, boost::system::error_code reason) {
        out.emit(event_line("peer_closed")
                     .subject("peer", p.address)
                     .field("reason", error_name(reason)));
        fed([&](status_board& b) { b.on_closed(p.address, clock::now()); });
    };
    return cb;
}

// The WebSocket server's sessions take the same heartbeat flags as the native ones.
websocket_server_config make_websocket_config(const session_config& session) {
    websocket_server_config config;
    config.session.heartbeat = session.heartbeat;
    config.session.close_timeout = session.close_timeout;
    config.session.tcp_keepalive = session.tcp_keepalive;
    config.handshake_timeout = session.handshake_timeout;
    config.echo = true;
    return config;
}

// Binds, reports `listening`, then serves until SIGINT/SIGTERM: closes every session (each peer
// is told: CLOSE or a close frame 1000) and exits once they have ended.
template <class Server, class Config>
int serve(asio::io_context& ioc, const tcp::endpoint& at, Config config, const serve_args& args,
          event_writer& out, const std::optional<host_port>& http_at) {
    // Declared first so it outlives the server, whose callbacks feed it.
    std::optional<status_service> status;
    std::optional<Server> server;
    try {
        if (http_at) {
            status.emplace(ioc, board_role::serve, *http_at, out);
            status->metrics().attach(config);
        }
        server.emplace(ioc, at, config, make_callbacks(out, status ? &*status : nullptr));
    } catch (const boost::system::system_error& e) {
        std::fprintf(stderr, "heartbeat: --listen: cannot listen on %s: %s\n",
                     quote_arg(args.listen).c_str(), e.code().message().c_str());
        return 1;
    }
    const auto bound = server->local_endpoint();
    out.emit(event_line("listening")
                 .field("address", format_host_port(bound.address().to_string(), bound.port())));

    bool accepting = true;
    server->async_run([&](boost::system::error_code) { accepting = false; });
    graceful_stop stopper(
        ioc,
        [&] {
            server->close();
            if (status)
                status->close();
        },
        [&] {
            return !accepting && server->stats().active == 0 && (!status || status->finished());
        });
    ioc.run();
    return 0;
}

// --tls-cert and --tls-key: a server TLS context, or nullptr when neither is given.
std::shared_ptr<asio::ssl::context> make_tls_context(const serve_args& args,
                                                     serve_protocol protocol) {
    if (args.tls_cert.empty() && args.tls_key.empty())
        return nullptr;
    if (args.tls_cert.empty())
        throw usage_error("--tls-key", "needs --tls-cert");
    if (args.tls_key.empty())
        throw usage_error("--tls-cert", "needs --tls-key");
    if (protocol != serve_protocol::ws)
        throw usage_error("--tls-cert", "needs --protocol ws (it serves wss://)");
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    ctx->use_certificate_chain_file(args.tls_cert, ec);
    if (ec)
        throw usage_error("--tls-cert", "cannot load a PEM certificate chain from " +
                                            quote_arg(args.tls_cert) + ": " + ec.message());
    ctx->use_private_key_file(args.tls_key, asio::ssl::context::pem, ec);
    if (ec)
        throw usage_error("--tls-key", "cannot load a PEM private key from " +
                                           quote_arg(args.tls_key) + ": " + ec.message());
    return ctx;
}

} // namespace

serve_protocol parse_serve_protocol(const std::string& text) {
    if (text == "native")
        return serve_protocol::native;
    if (text == "ws")
        return serve_protocol::ws;
    throw usage_error("--protocol", "unknown protocol " + quote_arg(text) + " (use native or ws)");
}

int run_serve(const serve_args& args) {
    const serve_protocol protocol = parse_serve_protocol(args.protocol);
    host_port listen;
    try {
        listen = parse_host_port(args.listen, true);
    } catch (const std::invalid_argument& e) {
        throw usage_error("--listen", e.what());
    }
    server_config config;
    config.session = make_session_config(args.heartbeat);
    config.echo = true;
    // WebSocket has no SLOW_DOWN to tell a peer it pings too often.
    if (protocol == serve_protocol::ws && config.session.min_peer_ping_interval > duration::zero())
        throw usage_error("--min-interval", "ping policing needs --protocol native");

    const auto tls = make_tls_context(args, protocol);
    std::optional<host_port> http_at;
    if (args.http)
        http_at = parse_http_address(*args.http);

    asio::io_context ioc; // one thread: callbacks never run concurrently
    tcp::resolver resolver(ioc);
    boost::system::error_code ec;
    const auto results =
        resolver.resolve(listen.host, std::to_string(listen.port),
                         tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
        throw usage_error("--listen",
                          "cannot resolve " + quote_arg(listen.host) + ": " + ec.message());

    event_writer out(stdout, args.json ? output_format::json : output_format::text);
    const tcp::endpoint at = results.begin()->endpoint();
    if (protocol == serve_protocol::ws) {
        auto ws_config = make_websocket_config(config.session);
        ws_config.tls = tls;
        return serve<websocket_server>(ioc, at, ws_config, args, out, http_at);
    }
    return serve<tcp_server>(ioc, at, config, args, out, http_at);
}

} // namespace heartbeat::cli
