// A Redis connection kept healthy, with failover from a primary to its replica.
//
// heartbeat::client takes redis:// endpoints: each connection runs a RESP session that
// authenticates (HELLO 3), sends PING between the application's own pipelined commands (replies
// are matched by order), and declares the server dead when its PONGs stop. Here the primary
// hangs (SIGSTOP: its socket stays open, nothing answers); the client declares it dead after the
// silence budget and fails over to the replica, where the data written before is read back.
//
// The example starts its own redis-server primary and replica on free loopback ports; it exits
// 77 (skipped) when redis-server is not installed, 0 when the failover worked.
#include "support/local_server.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/protocol/resp/resp_command.hpp>
#include <heartbeat/protocol/resp/resp_value.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdint>
#include <cstdio>

namespace asio = boost::asio;
namespace hb = heartbeat;
using namespace std::chrono_literals;

// One command through the client, and its reply, read as a RESP value.
asio::awaitable<hb::resp::value> call(hb::client& c, std::string command) {
    co_await c.async_send(std::move(command), asio::use_awaitable);
    const hb::received_message reply = co_await c.async_receive(asio::use_awaitable);
    boost::system::error_code ec;
    co_return hb::resp::parse_value(reply.payload, ec).value_or(hb::resp::value{});
}

int main() {
    const auto redis = example::find_program("redis-server");
    if (!redis) {
        std::puts("skipped: redis-server is not installed (apt-get install redis-server)");
        return example::skipped;
    }
    const example::scratch_dir files; // the replica's copy of the primary's data
    const auto start = [&](std::vector<std::string> extra) {
        const unsigned short port = example::free_port();
        std::vector<std::string> argv{*redis,
                                      "--port",
                                      std::to_string(port),
                                      "--bind",
                                      "127.0.0.1",
                                      "--save",
                                      "",
                                      "--dir",
                                      files.path(),
                                      "--dbfilename",
                                      "dump-" + std::to_string(port) + ".rdb",
                                      "--repl-diskless-sync-delay",
                                      "0"};
        argv.insert(argv.end(), extra.begin(), extra.end());
        return std::make_unique<example::local_server>(argv, port);
    };
    const auto primary = start({});
    const auto replica = start({"--replicaof", "127.0.0.1", std::to_string(primary->port())});

    hb::client_config config;
    config.session.heartbeat.interval = 200ms;     // PING after 200 ms without a reply
    config.session.heartbeat.pong_timeout = 200ms; // each PONG's deadline
    config.session.heartbeat.max_missed = 3;       // budget: 200 + 3 x 200 = 800 ms
    config.endpoints.failback = false;
    std::vector<hb::endpoint> endpoints;
    for (const auto* server : {primary.get(), replica.get()})
        endpoints.push_back(
            *hb::parse_endpoint("redis://127.0.0.1:" + std::to_string(server->port())));

    asio::io_context ioc;
    bool failed_over = false;
    hb::client client(ioc.get_executor(), endpoints, config, [&](const hb::client_event& e) {
        if (e.kind == hb::client_event_kind::failover)
            std::printf("event failover   %s -> %s\n", e.from.c_str(), e.to.c_str());
        else
            std::printf("event %-10s %s\n", hb::to_string(e.kind), e.endpoint.c_str());
        failed_over |= e.kind == hb::client_event_kind::failover;
    });
    client.async_run([](boost::system::error_code ec) {
        std::printf("client ended: %s\n", hb::error_name(ec));
    });

    bool ok = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            const auto set = co_await call(client, hb::resp::command("SET", "greeting", "hello"));
            std::printf("SET on the primary: %s\n", hb::resp::to_string(set).c_str());
            // Replication is asynchronous: WAIT until the replica has the write. Each WAIT
            // blocks the connection for at most 100 ms, well inside the silence budget, so the
            // heartbeat PINGs queued behind it are answered in time.
            std::int64_t replicas = 0;
            for (int i = 0; i < 100 && replicas < 1; ++i)
                replicas = (co_await call(client, hb::resp::command("WAIT", "1", "100"))).integer;
            std::printf("replicas holding the write: %lld\n", static_cast<long long>(replicas));
            if (replicas < 1) {
                client.close();
                co_return;
            }
            std::puts("the primary hangs now");
            primary->freeze();
            asio::steady_timer t(ioc);
            for (int i = 0; i < 200 && !failed_over; ++i) { // the verdict comes after ~800 ms
                t.expires_after(50ms);
                co_await t.async_wait(asio::use_awaitable);
            }
            const auto get = co_await call(client, hb::resp::command("GET", "greeting"));
            std::printf("GET on the replica: %s\n", hb::resp::to_string(get).c_str());
            ok = get.string == "hello";
            client.close();
        },
        [&](std::exception_ptr ep) {
            if (ep)
                client.close();
        });
    ioc.run_for(20s);
    primary->thaw();
    std::puts(ok ? "ok: failed over to the replica, nothing lost" : "FAILED");
    return ok ? 0 : 1;
}
