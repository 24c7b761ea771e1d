#include "failover_demo.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/session/resume_store.hpp>
#include <heartbeat/server/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <ostream>
#include <string>
#include <thread>

namespace heartbeat::demo {
namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;

long long ms(duration d) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// A server on its own thread that can hang like a frozen host: its event loop stops, its
// sockets stay open (the kernel still ACKs TCP), nothing is read or answered.
class hangable_server {
public:
    hangable_server(const server_config& cfg, server_callbacks cb)
        : server_(ioc_, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0), cfg,
                  std::move(cb)),
          work_(ioc_.get_executor()) {
        server_.async_run(asio::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~hangable_server() {
        recover();
        server_.close();
        work_.reset();
        ioc_.stop();
        thread_.join();
    }
    std::string address() const {
        return "127.0.0.1:" + std::to_string(server_.local_endpoint().port());
    }
    void hang() {
        release_.emplace();
        asio::post(ioc_, [f = release_->get_future().share()] { f.wait(); });
    }
    void recover() {
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
    std::optional<std::promise<void>> release_;
};

struct delivery_count {
    std::mutex mutex;
    std::map<std::uint64_t, unsigned> times; // seq -> deliveries to an application
    std::map<std::pair<int, std::uint64_t>, std::uint64_t> last_seq; // per connection
    std::uint64_t out_of_order = 0;
    std::uint64_t per_server[2] = {0, 0};
    void record(int server, std::uint64_t peer, std::uint64_t seq) {
        std::lock_guard lock(mutex);
        ++times[seq];
        ++per_server[server];
        auto& last = last_seq[{server, peer}];
        if (seq <= last)
            ++out_of_order;
        last = seq;
    }
};

} // namespace

int run(const options& opts, std::ostream& out) {
    const time_point t0 = clock::now();
    std::mutex out_mutex;
    auto say = [&](const std::string& line) {
        std::lock_guard lock(out_mutex);
        char stamp[32];
        std::snprintf(stamp, sizeof stamp, "[%6.3fs] ",
                      std::chrono::duration<double>(clock::now() - t0).count());
        out << stamp << line << '\n' << std::flush;
    };

    session_config session;
    session.heartbeat.interval = opts.interval;
    session.heartbeat.pong_timeout = opts.timeout;
    session.heartbeat.max_missed = opts.misses;
    session.heartbeat.jitter = 0.0;
    const duration budget = silence_budget(session.heartbeat);

    // The two servers share one resume store, as a cluster sharing its session store would:
    // delivery is then exactly-once across failover and failback, not only across resume.
    server_config scfg;
    scfg.session = session;
    scfg.session.resume = std::make_shared<resume_store>();
    scfg.echo = false;
    delivery_count delivered;
    server_callbacks primary_cb, backup_cb;
    primary_cb.on_message = [&](const peer_info& p, received_message m) {
        delivered.record(0, p.id, m.seq);
    };
    backup_cb.on_message = [&](const peer_info& p, received_message m) {
        delivered.record(1, p.id, m.seq);
    };
    hangable_server primary(scfg, primary_cb);
    hangable_server backup(scfg, backup_cb);
    say("primary listening on " + primary.address() + ", backup on " + backup.address());
    say("heartbeat: ping after " + std::to_string(opts.interval.count()) + " ms of silence, " +
        std::to_string(opts.misses) + " missed pongs of " + std::to_string(opts.timeout.count()) +
        " ms => silence budget " + std::to_string(ms(budget)) + " ms");

    asio::io_context ioc;
    client_config ccfg;
    ccfg.session = session;
    // Ping on schedule even while the backup's ACKs flow, so the timeline shows RTT throughout.
    ccfg.session.heartbeat.liveness = liveness_mode::pong_only;
    ccfg.backoff.initial = 100ms;
    ccfg.connect_timeout = 1s;
    ccfg.endpoints.healthy_probes = 3;
    ccfg.endpoints.min_dwell = 2s;
    ccfg.probe_interval = 300ms;
    ccfg.probe_timeout = 500ms;

    time_point frozen_at{}, failover_at{}, failback_at{};
    std::optional<verdict> verdict_seen;
    time_point last_rtt_print{};
    std::vector<endpoint> endpoints = {*parse_endpoint(primary.address()),
                                       *parse_endpoint(backup.address())};
    const std::string primary_label = endpoints[0].label;
    auto name = [&](const std::string& label) {
        return label == primary_label ? std::string("primary") : std::string("backup");
    };
    client c(ioc.get_executor(), endpoints, ccfg, [&](const client_event& e) {
        switch (e.kind) {
        case client_event_kind::connected:
            say("client connected to " + name(e.endpoint));
            break;
        case client_event_kind::rtt:
            if (clock::now() - last_rtt_print >= 1s) {
                last_rtt_print = clock::now();
                char buf[96];
                std::snprintf(buf, sizeof buf, "rtt to %s: %.3f ms (smoothed %.3f ms)",
                              name(e.endpoint).c_str(),
                              std::chrono::duration<double, std::milli>(e.rtt).count(),
                              std::chrono::duration<double, std::milli>(e.srtt).count());
                say(buf);
            }
            break;
        case client_event_kind::suspect:
            say(name(e.endpoint) + " suspect: " + std::to_string(e.missed) + " pong(s) missed");
            break;
        case client_event_kind::dead:
            verdict_seen = e.dead;
            say(name(e.endpoint) + " declared DEAD after " + std::to_string(ms(e.dead->silence)) +
                " ms of silence (budget " + std::to_string(ms(budget)) + " ms, " +
                std::to_string(e.dead->missed) + " pongs missed)");
            break;
        case client_event_kind::failover:
            if (failover_at == time_point{})
                failover_at = clock::now();
            say("failover " + name(e.from) + " -> " + name(e.to));
            break;
        case client_event_kind::failback:
            failback_at = clock::now();
            say("failback " + name(e.from) + " -> " + name(e.to) + " (the primary answered " +
                std::to_string(ccfg.endpoints.healthy_probes) + " probes in a row and the " +
                "client had been on the backup for at least " +
                std::to_string(ms(ccfg.endpoints.min_dwell)) + " ms)");
            break;
        case client_event_kind::reconnecting:
            say("reconnecting in " + std::to_string(ms(e.delay)) + " ms");
            break;
        case client_event_kind::closed:
            say("session with " + name(e.endpoint) + " ended: " + error_name(e.reason));
            break;
        default:
            break;
        }
    });
    bool run_done = false;
    c.async_run([&](boost::system::error_code) { run_done = true; });

    std::uint64_t sent = 0;
    bool streaming_done = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer pace(ioc);
            const auto period = std::chrono::microseconds(1'000'000 / opts.rate_per_second);
            time_point next = clock::now();
            while (clock::now() - t0 < opts.stream_for) {
                auto [ec, seq] = co_await c.async_send("message " + std::to_string(sent + 1),
                                                       asio::as_tuple(asio::use_awaitable));
                if (ec)
                    break;
                sent = seq;
                next += period;
                pace.expires_at(next);
                co_await pace.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            streaming_done = true;
        },
        asio::detached);
    say("client streaming " + std::to_string(opts.rate_per_second) + " numbered messages/s");

    asio::steady_timer freeze_timer(ioc), recover_timer(ioc);
    freeze_timer.expires_at(t0 + opts.freeze_at);
    freeze_timer.async_wait([&](boost::system::error_code) {
        primary.hang();
        frozen_at = clock::now();
        say("primary HANGS: stops reading and answering, keeps its sockets open");
    });
    recover_timer.expires_at(t0 + opts.recover_at);
    recover_timer.async_wait([&](boost::system::error_code) {
        primary.recover();
        say("primary recovers");
    });

    const time_point hard_stop = t0 + opts.stream_for + 8s;
    while (!streaming_done && clock::now() < hard_stop)
        ioc.run_for(20ms);
    // Let the last ACKs arrive before closing, so the count below is final.
    while (c.stats().unacked > 0 && clock::now() < hard_stop)
        ioc.run_for(20ms);
    c.close();
    while (!run_done && clock::now() < hard_stop)
        ioc.run_for(20ms);
    // Servers may still be delivering the very last messages on their threads.
    std::this_thread::sleep_for(100ms);

    std::uint64_t unique = 0, duplicates = 0, out_of_order = 0, per_primary = 0, per_backup = 0;
    {
        std::lock_guard lock(delivered.mutex);
        for (const auto& [seq, n] : delivered.times) {
            if (seq >= 1 && seq <= sent)
                ++unique;
            duplicates += n - 1;
        }
        out_of_order = delivered.out_of_order;
        per_primary = delivered.per_server[0];
        per_backup = delivered.per_server[1];
    }
    const std::uint64_t lost = sent - unique;
    const auto stats = c.stats();
    out << "\n--- summary ---\n";
    if (frozen_at != time_point{} && failover_at != time_point{}) {
        out << "detection: failover " << ms(failover_at - frozen_at)
            << " ms after the primary hung";
        if (verdict_seen)
            out << "; the verdict came after " << ms(verdict_seen->silence)
                << " ms of silence (budget " << ms(budget)
                << " ms), counted from the primary's last reply, before the hang";
        out << "\n";
    }
    out << "messages sent:       " << sent << "\n";
    out << "messages delivered:  " << unique << "  (primary " << per_primary << ", backup "
        << per_backup << ")\n";
    out << "re-sent:             " << stats.messages_resent
        << "  (unacknowledged when a session ended; a server drops those it already "
           "delivered, through the shared resume store)\n";
    out << "duplicated:          " << duplicates << "\n";
    out << "lost:                " << lost << "\n";
    out << "out of order:        " << out_of_order << "\n";
    out << "failovers: " << stats.failovers << ", failbacks: " << stats.failbacks << "\n";
    const bool ok = lost == 0 && duplicates == 0 && out_of_order == 0 && stats.failovers >= 1 &&
                    stats.failbacks >= 1 && sent > 0;
    if (ok) {
        out << "OK: nothing lost, nothing duplicated, everything in order, across one failover "
               "and one failback\n"
            << std::flush;
        return 0;
    }
    std::string why;
    const auto add = [&](const std::string& reason) { why += (why.empty() ? "" : ", ") + reason; };
    if (sent == 0)
        add("nothing was sent");
    if (lost)
        add(std::to_string(lost) + " lost");
    if (duplicates)
        add(std::to_string(duplicates) + " duplicated");
    if (out_of_order)
        add(std::to_string(out_of_order) + " out of order");
    if (stats.failovers == 0)
        add("no failover");
    if (stats.failbacks == 0)
        add("no failback");
    out << "FAILED: " << why << "\n" << std::flush;
    return 1;
}

} // namespace heartbeat::demo
