// The `heartbeat` command: CLI11 wiring only; the commands live in serve_command, watch_command
// and demo_command.
#include "demo_command.hpp"
#include "help_text.hpp"
#include "serve_command.hpp"
#include "usage_error.hpp"
#include "watch_command.hpp"

#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <iostream>

namespace {

using namespace heartbeat::cli;

void add_heartbeat_flags(CLI::App& cmd, heartbeat_flags& f) {
    cmd.add_option("--interval", f.interval, "Quiet time (nothing received) before a ping is sent")
        ->type_name("DURATION")
        ->capture_default_str();
    cmd.add_option("--timeout", f.timeout, "How long a pong may take after its ping was written")
        ->type_name("DURATION")
        ->capture_default_str();
    cmd.add_option("--misses", f.misses, "Consecutive missed pongs that make the verdict dead")
        ->type_name("N")
        ->capture_default_str();
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Application-level heartbeats over TCP or WebSocket: serve, watch a server with "
                 "failover, or run the failover demo.",
                 "heartbeat"};
    app.require_subcommand(1);
    app.footer(main_help_footer);

    serve_args serve;
    auto* serve_cmd = app.add_subcommand(
        "serve", "Run a heartbeat echo server: answer pings, echo messages, heartbeat every peer; "
                 "until SIGINT/SIGTERM");
    serve_cmd->add_option("--listen", serve.listen, "HOST:PORT to listen on; port 0 picks one")
        ->type_name("HOST:PORT")
        ->capture_default_str();
    serve_cmd
        ->add_option("--protocol", serve.protocol,
                     "native: the heartbeat protocol over TCP (watch HOST:PORT); ws: WebSocket, "
                     "heartbeats as RFC 6455 ping/pong, any path accepted (watch "
                     "ws://HOST:PORT/)")
        ->type_name("native|ws")
        ->capture_default_str();
    serve_cmd
        ->add_option("--tls-cert", serve.tls_cert,
                     "With --protocol ws: serve wss:// (TLS) with this PEM certificate chain")
        ->type_name("FILE");
    serve_cmd->add_option("--tls-key", serve.tls_key, "The PEM private key of --tls-cert")
        ->type_name("FILE");
    add_heartbeat_flags(*serve_cmd, serve.heartbeat);
    serve_cmd
        ->add_option("--min-interval", serve.heartbeat.min_interval,
                     "Ping policing: a peer pinging faster than this is told to slow down, then "
                     "disconnected (0ms: off)")
        ->type_name("DURATION")
        ->capture_default_str();
    serve_cmd
        ->add_option("--http", serve.http,
                     "Serve a status page (/), /status.json, /metrics (Prometheus) and a /live "
                     "WebSocket on HOST:PORT; port 0 picks one (reported as http_listening)")
        ->type_name("HOST:PORT");
    serve_cmd->add_flag("--json", serve.json, "One JSON event per line on stdout");
    serve_cmd->footer(serve_help_footer);

    watch_args watch;
    auto* watch_cmd = app.add_subcommand(
        "watch", "Heartbeat a server through the client supervisor: the ENDPOINTs are one "
                 "connection's failover list, most preferred first; report RTT, suspicion, "
                 "verdicts, reconnects, failover and failback (and, with --send-rate, message "
                 "delivery); until SIGINT/SIGTERM or --for");
    watch_cmd
        ->add_option("ENDPOINT", watch.endpoints,
                     "Servers in order of preference (the first is the primary, the others are "
                     "failed over to in turn), each HOST:PORT (native protocol), "
                     "ws://HOST[:PORT][/PATH] (WebSocket, port 80 by default), "
                     "wss://HOST[:PORT][/PATH] (WebSocket over TLS, port 443 by default), "
                     "redis://[[USER]:PASS@]HOST[:PORT][/DB] (Redis; rediss:// over TLS), "
                     "mqtt://[USER[:PASS]@]HOST[:PORT] (an MQTT broker; mqtts://) or "
                     "line://HOST:PORT?ping=PING&pong=PONG (a line protocol; lines://); "
                     "protocols may be mixed")
        ->required();
    add_heartbeat_flags(*watch_cmd, watch.heartbeat);
    watch_cmd
        ->add_option("--jitter", watch.heartbeat.jitter,
                     "Fraction (0..0.5) by which each quiet period is randomised")
        ->type_name("F")
        ->capture_default_str();
    watch_cmd->add_flag(
        "--failback", watch.supervisor.failback,
        "While on a less preferred endpoint, probe the more preferred ones and move "
        "back to one once it answered 3 probes (every 500ms) and --min-dwell passed "
        "(default: stay)");
    watch_cmd
        ->add_option("--min-dwell", watch.supervisor.min_dwell,
                     "With --failback: the least time on an endpoint before failing back from it")
        ->type_name("DURATION")
        ->capture_default_str();
    watch_cmd
        ->add_option("--backoff-initial", watch.supervisor.backoff_initial,
                     "Reconnect backoff after every endpoint failed: first delay's upper bound "
                     "(each delay is random in [0, bound]; the bound grows 1.6x per round)")
        ->type_name("DURATION")
        ->capture_default_str();
    watch_cmd
        ->add_option("--backoff-max", watch.supervisor.backoff_max,
                     "Cap of the reconnect backoff's bound")
        ->type_name("DURATION")
        ->capture_default_str();
    watch_cmd
        ->add_option("--give-up-after", watch.supervisor.give_up_after,
                     "Give up (exit 1) when no session could be established for this long "
                     "(default: retry forever)")
        ->type_name("DURATION");
    watch_cmd
        ->add_option("--ca-file", watch.supervisor.ca_file,
                     "wss:// endpoints: trust the CA certificates in this PEM file instead of "
                     "the system's store (the certificate must still match the host)")
        ->type_name("FILE");
    watch_cmd->add_flag("--insecure", watch.supervisor.insecure,
                        "wss:// endpoints: accept any certificate (encrypted, not "
                        "authenticated; for tests)");
    watch_cmd
        ->add_option("--send-rate", watch.send_rate,
                     "Send N numbered messages per second and report their delivery "
                     "(0: heartbeats only)")
        ->type_name("N")
        ->capture_default_str();
    watch_cmd->add_option("--for", watch.run_for, "Close the connection and exit 0 after this long")
        ->type_name("DURATION");
    watch_cmd
        ->add_option("--http", watch.http,
                     "Serve a status page (/), /status.json, /metrics (Prometheus) and a /live "
                     "WebSocket on HOST:PORT; port 0 picks one (reported as http_listening)")
        ->type_name("HOST:PORT");
    watch_cmd->add_flag("--json", watch.json, "One JSON event per line on stdout");
    watch_cmd->footer(watch_help_footer);

    demo_args demo;
    auto* demo_cmd = app.add_subcommand(
        "demo", "Run a failover scenario in this process: a client streams numbered messages to "
                "a primary server, the primary hangs, the client fails over to a backup and back; "
                "prints the timeline and checks that nothing was lost or duplicated");
    add_heartbeat_flags(*demo_cmd, demo.heartbeat);
    demo_cmd->footer(demo_help_footer);

    try {
        app.parse(argc, argv);
    } catch (const CLI::CallForHelp& e) {
        return app.exit(e);
    } catch (const CLI::CallForAllHelp& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        std::fprintf(stderr, "heartbeat: %s\n", e.what());
        return 2;
    }

    try {
        if (serve_cmd->parsed())
            return run_serve(serve);
        if (demo_cmd->parsed())
            return run_demo(demo, std::cout);
        return run_watch(watch);
    } catch (const usage_error& e) {
        std::fprintf(stderr, "heartbeat: %s\n", e.what());
        return 2;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "heartbeat: %s\n", e.what());
        return 1;
    }
}
