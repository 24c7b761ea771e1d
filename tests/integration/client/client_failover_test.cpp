// The client supervisor across a frozen primary: failover within the silence budget plus one
// connect, streaming continues, failback after recovery, nothing lost or reordered.
#include "test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/session/resume_store.hpp>
#include <heartbeat/server/server.hpp>

#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <set>
#include <thread>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace {

// A server on its own io_context thread that can be frozen (its thread blocked: it stops
// reading and answering but keeps its sockets open, like a hung host) and thawed.
class freezable_server {
public:
    freezable_server(const server_config& cfg, server_callbacks cb)
        : server_(ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), cfg, std::move(cb)),
          work_(ioc_.get_executor()) {
        server_.async_run(asio::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~freezable_server() {
        thaw();
        server_.close();
        work_.reset();
        ioc_.stop();
        thread_.join();
    }
    unsigned short port() const { return server_.local_endpoint().port(); }
    void freeze() {
        std::lock_guard lock(mutex_);
        if (release_)
            return;
        release_.emplace();
        asio::post(ioc_, [f = release_->get_future().share()] { f.wait(); });
    }
    void thaw() {
        std::lock_guard lock(mutex_);
        if (release_) {
            release_->set_value();
            release_.reset();
        }
    }

private:
    asio::io_context ioc_;
    tcp_server server_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::thread thread_;
    std::mutex mutex_;
    std::optional<std::promise<void>> release_;
};

// Records every delivered sequence number, per server and overall.
struct delivery_log {
    std::mutex mutex;
    std::vector<std::uint64_t> order; // global delivery order across servers
    std::map<std::uint64_t, int> count;
    std::map<std::pair<int, std::uint64_t>, std::uint64_t> last_per_connection;
    int out_of_order = 0;
    void record(int server, std::uint64_t peer, std::uint64_t seq) {
        std::lock_guard lock(mutex);
        order.push_back(seq);
        ++count[seq];
        auto& last = last_per_connection[{server, peer}];
        if (seq <= last)
            ++out_of_order;
        last = seq;
    }
};

} // namespace

// Streams numbered messages while the primary freezes and thaws; returns the duplicates the
// servers' applications saw.
std::uint64_t frozen_primary_scenario(bool servers_share_resume_store) {
    delivery_log log;
    server_config scfg;
    scfg.session = fast_config(100ms, 100ms, 3);
    scfg.echo = false;
    if (servers_share_resume_store)
        scfg.session.resume = std::make_shared<resume_store>();
    server_callbacks primary_cb, backup_cb;
    primary_cb.on_message = [&](const peer_info& p, received_message m) {
        log.record(0, p.id, m.seq);
    };
    backup_cb.on_message = [&](const peer_info& p, received_message m) {
        log.record(1, p.id, m.seq);
    };
    freezable_server primary(scfg, primary_cb);
    freezable_server backup(scfg, backup_cb);

    asio::io_context ioc;
    client_config cfg;
    cfg.session = fast_config(100ms, 100ms, 3); // budget 400 ms
    cfg.backoff.initial = 50ms;
    cfg.connect_timeout = 500ms;
    cfg.endpoints.healthy_probes = 3;
    cfg.endpoints.min_dwell = 1s;
    cfg.probe_interval = 200ms;
    cfg.probe_timeout = 300ms;
    std::vector<client_event> events;
    time_point frozen_at{}, failover_at{}, failback_at{};
    std::vector<endpoint> eps = {*parse_endpoint("127.0.0.1:" + std::to_string(primary.port())),
                                 *parse_endpoint("127.0.0.1:" + std::to_string(backup.port()))};
    client c(ioc.get_executor(), eps, cfg, [&](const client_event& e) {
        events.push_back(e);
        if (e.kind == client_event_kind::failover && failover_at == time_point{})
            failover_at = clock::now();
        if (e.kind == client_event_kind::failback)
            failback_at = clock::now();
    });
    bool run_done = false;
    boost::system::error_code run_end;
    c.async_run([&](boost::system::error_code ec) { run_end = ec, run_done = true; });

    const std::uint64_t total = 3000;
    std::uint64_t accepted = 0;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer pace(ioc);
            for (std::uint64_t i = 1; i <= total; ++i) {
                auto [ec, seq] = co_await c.async_send("message " + std::to_string(i),
                                                       asio::as_tuple(asio::use_awaitable));
                if (ec || seq != i)
                    co_return;
                accepted = i;
                if (i % 10 == 0) { // ~1 message per ms overall: the run spans the whole scenario
                    pace.expires_after(10ms);
                    co_await pace.async_wait(asio::use_awaitable);
                }
            }
        },
        asio::detached);

    run_until(
        ioc, [&] { return accepted >= 500; }, 20s);
    primary.freeze();
    frozen_at = clock::now();
    EXPECT_TRUE(run_until(
        ioc, [&] { return failover_at != time_point{}; }, 10s));
    run_until(
        ioc, [&] { return accepted >= 1500; }, 20s);
    primary.thaw();
    EXPECT_TRUE(run_until(
        ioc, [&] { return failback_at != time_point{}; }, 20s));
    EXPECT_TRUE(run_until(
        ioc, [&] { return accepted == total && c.stats().unacked == 0; }, 30s));
    c.close();
    EXPECT_TRUE(run_until(
        ioc, [&] { return run_done; }, 10s));
    EXPECT_EQ(run_end, error::session_closed);

    const auto detection = failover_at - frozen_at;
    EXPECT_LT(detection, 400ms + 1500ms) << "budget + one connect, generously";
    const auto dead = std::find_if(events.begin(), events.end(), [](const client_event& e) {
        return e.kind == client_event_kind::dead;
    });
    EXPECT_NE(dead, events.end());
    if (dead != events.end() && dead->dead)
        EXPECT_GE(dead->dead->silence, 400ms) << "never before the silence budget";

    std::lock_guard lock(log.mutex);
    for (std::uint64_t seq = 1; seq <= total; ++seq)
        EXPECT_GE(log.count[seq], 1) << "message " << seq << " lost";
    // In order: each server saw increasing sequence numbers, so the global order has no
    // regression except where a failover re-sent unacknowledged messages.
    EXPECT_EQ(log.out_of_order, 0) << "each connection delivers in increasing order";
    std::uint64_t duplicates = 0;
    for (auto& [seq, n] : log.count)
        duplicates += n - 1;
    const auto stats = c.stats();
    EXPECT_EQ(stats.failovers, 1u);
    EXPECT_EQ(stats.failbacks, 1u);
    EXPECT_LE(duplicates, stats.messages_resent);
    std::printf("detection %lld ms, duplicates %llu (resent %llu)\n",
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::milliseconds>(detection).count()),
                static_cast<unsigned long long>(duplicates),
                static_cast<unsigned long long>(stats.messages_resent));
    return duplicates;
}

TEST(ClientFailover, FrozenPrimaryFailsOverAndBackAtLeastOnceInOrder) {
    frozen_primary_scenario(false); // duplicates bounded by the re-sent messages
}

TEST(ClientFailover, ServersSharingAResumeStoreDeliverExactlyOnceAcrossFailover) {
    EXPECT_EQ(frozen_primary_scenario(true), 0u);
}
