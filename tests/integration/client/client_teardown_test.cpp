// A client whose io_context is destroyed while it runs frees everything it owns: its session,
// its pending handlers, its config. The metrics registry in its config is the witness: once the
// io_context is gone, the test's reference must be the only one left. Without the context's
// shutdown service the cycle client -> session -> pending run completion -> client kept it.
#include "client_test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/metrics/registry.hpp>
#include <heartbeat/server/server.hpp>

#include <gtest/gtest.h>

#include <memory>
#include <optional>

using namespace heartbeat;
using namespace std::chrono_literals;
namespace ht = heartbeat::test;
namespace cs = heartbeat::test::client_support;
namespace asio = boost::asio;

namespace {

client_config teardown_client(std::shared_ptr<metrics::registry> registry) {
    client_config cfg;
    cfg.session = ht::fast_config(50ms, 200ms, 3);
    cfg.use_reconnect_budget = false;
    cfg.metrics = std::move(registry);
    return cfg;
}

TEST(ClientTeardown, IoContextDestroyedWhileConnectedFreesTheClient) {
    server_config scfg;
    scfg.session = ht::fast_config(50ms, 200ms, 3);
    cs::threaded_server server(0, scfg);
    auto registry = metrics::registry::create();
    {
        asio::io_context ioc;
        bool connected = false;
        client c(
            ioc.get_executor(), {cs::local_endpoint_for(server.port())}, teardown_client(registry),
            [&](const client_event& e) { connected |= e.kind == client_event_kind::connected; });
        c.async_run(asio::detached);
        std::optional<received_message> never;
        c.async_receive([&](boost::system::error_code, received_message m) { never = m; });
        ASSERT_TRUE(ht::run_until(
            ioc, [&] { return connected; }, 10s));
        EXPECT_GT(registry.use_count(), 1);
    } // the client, then the io_context with the run and the receive still pending
    EXPECT_EQ(registry.use_count(), 1) << "the client or its session leaked";
}

TEST(ClientTeardown, IoContextDestroyedWhileReconnectingFreesTheClient) {
    auto registry = metrics::registry::create();
    {
        asio::io_context ioc;
        int failures = 0;
        client c(ioc.get_executor(), {cs::local_endpoint_for(cs::unused_port())},
                 teardown_client(registry), [&](const client_event& e) {
                     failures += e.kind == client_event_kind::reconnecting;
                 });
        c.async_run(asio::detached);
        ASSERT_TRUE(ht::run_until(
            ioc, [&] { return failures >= 2; }, 10s));
    }
    EXPECT_EQ(registry.use_count(), 1) << "the client leaked";
}

} // namespace
