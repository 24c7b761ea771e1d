#include "serve_command.hpp"

#include "endpoint_arg.hpp"
#include "graceful_stop.hpp"
#include "json_events.hpp"
#include "usage_error.hpp"

#include <heartbeat/error.hpp>
#include <heartbeat/server.hpp>

#include <cstdio>
#include <optional>

namespace heartbeat::cli {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

std::int64_t to_ms(duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

server_callbacks make_callbacks(event_writer& out) {
    server_callbacks cb;
    cb.on_peer_connected = [&out](const peer_info& p) {
        out.emit(event_line("peer_connected").subject("peer", p.address));
    };
    cb.on_peer_dead = [&out](const peer_info& p, const verdict& v) {
        out.emit(event_line("peer_dead")
                     .subject("peer", p.address)
                     .field("reason", error_name(v.reason))
                     .field("missed", v.missed)
                     .field("silent_ms", to_ms(v.silence)));
    };
    cb.on_peer_closed = [&out](const peer_info& p, boost::system::error_code reason) {
        out.emit(event_line("peer_closed")
                     .subject("peer", p.address)
                     .field("reason", error_name(reason)));
    };
    return cb;
}

} // namespace

int run_serve(const serve_args& args) {
    host_port listen;
    try {
        listen = parse_host_port(args.listen, true);
    } catch (const std::invalid_argument& e) {
        throw usage_error("--listen", e.what());
    }
    server_config config;
    config.session = make_session_config(args.heartbeat);
    config.echo = true;

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
    std::optional<tcp_server> server;
    try {
        server.emplace(ioc, results.begin()->endpoint(), config, make_callbacks(out));
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
        ioc, [&] { server->close(); }, [&] { return !accepting && server->stats().active == 0; });
    ioc.run();
    return 0;
}

} // namespace heartbeat::cli
