#include "watch_command.hpp"

#include "delivery_pump.hpp"
#include "duration_arg.hpp"
#include "graceful_stop.hpp"
#include "status_feed.hpp"
#include "status_service.hpp"
#include "usage_error.hpp"
#include "watch_event_view.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/core/error.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <cstdio>
#include <optional>

namespace heartbeat::cli {

namespace asio = boost::asio;

namespace {

// At exit, how long to wait for the server's ACKs of the last messages before closing, so the
// final `delivery` event counts them (well inside graceful_stop's 5 s grace).
constexpr duration final_ack_wait = seconds(1);

} // namespace

int run_watch(const watch_args& args) {
    // Every argument is checked before anything starts.
    const std::vector<endpoint> endpoints = make_endpoints(args.endpoints);
    client_config config = make_client_config(args.heartbeat, args.supervisor);
    unsigned send_rate = 0;
    try {
        send_rate = parse_send_rate(args.send_rate);
    } catch (const std::invalid_argument& err) {
        throw usage_error("--send-rate", err.what());
    }
    if (send_rate > 0)
        for (const endpoint& e : endpoints)
            if (e.scheme != endpoint_scheme::native && !e.websocket())
                throw usage_error("--send-rate", "needs native or WebSocket endpoints; " + e.label +
                                                     " carries its own protocol's messages");
    std::optional<duration> run_for;
    if (!args.run_for.empty()) {
        try {
            run_for = parse_duration(args.run_for);
        } catch (const std::invalid_argument& err) {
            throw usage_error("--for", err.what());
        }
        if (*run_for <= duration::zero())
            throw usage_error("--for", "must be > 0");
    }
    std::optional<host_port> http_at;
    if (args.http)
        http_at = parse_http_address(*args.http);

    event_writer out(stdout, args.json ? output_format::json : output_format::text);
    watch_event_view view(out.format());
    asio::io_context ioc; // one thread: the client's callbacks and ours never run concurrently
    std::optional<status_service> status;
    if (http_at) {
        status.emplace(ioc, board_role::watch, *http_at, out);
        for (const endpoint& e : endpoints)
            status->board().add_row(e.label);
        status->metrics().attach(config);
    }
    client watched(ioc.get_executor(), endpoints, config, [&](const client_event& e) {
        if (auto line = view.translate(e)) {
            if (e.at != time_point{})
                line->at(e.at);
            out.emit(*line);
        }
        if (status) {
            feed_client_event(status->board(), e, clock::now());
            status->changed();
        }
    });
    std::optional<delivery_pump> pump;
    if (send_rate > 0)
        pump.emplace(ioc, watched, send_rate, out);

    // Shutdown (SIGINT/SIGTERM, --for, or the client ending on its own): stop sending, give the
    // last messages up to final_ack_wait to be acknowledged, close the client (its session sends
    // CLOSE), wait for its run to end, then write the final `delivery` event.
    bool run_done = false;
    boost::system::error_code run_reason;
    bool closing = false, final_reported = false;
    time_point ack_wait_until{};
    asio::steady_timer run_for_timer(ioc);
    graceful_stop stopper(
        ioc,
        [&] {
            run_for_timer.cancel();
            if (status)
                status->close();
            ack_wait_until = clock::now() + final_ack_wait;
            if (pump) { // the final `delivery` event comes once the client has closed
                pump->stop_sending();
                pump->stop_reports();
            }
        },
        [&] {
            if (!closing) {
                if (pump && !run_done && watched.stats().connected && pump->unacked() > 0 &&
                    clock::now() < ack_wait_until)
                    return false;
                closing = true;
                watched.close();
            }
            if (!run_done)
                return false;
            if (pump && !final_reported) {
                final_reported = true;
                pump->report();
            }
            return !status || status->finished();
        });

    watched.async_run([&](boost::system::error_code ec) {
        run_done = true;
        run_reason = ec;
        stopper.request(); // no-op when we are the ones stopping it
    });
    if (run_for) {
        run_for_timer.expires_after(*run_for);
        run_for_timer.async_wait([&](boost::system::error_code ec) {
            if (!ec)
                stopper.request();
        });
    }
    if (pump)
        pump->start();
    ioc.run();

    if (pump && !final_reported) // forced stop: grace period over, or a second signal
        pump->report();
    if (!run_done || run_reason == error::session_closed ||
        run_reason == asio::error::operation_aborted)
        return 0;
    // The client ended on its own. all_endpoints_failed was reported as a `gave_up` event.
    if (run_reason != error::all_endpoints_failed)
        std::fprintf(stderr, "heartbeat: watch: the client stopped: %s\n",
                     run_reason.message().c_str());
    return 1;
}

} // namespace heartbeat::cli
