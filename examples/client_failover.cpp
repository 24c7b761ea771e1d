// Failover and failback with heartbeat::client, and no message lost on the way.
//
// The client keeps one logical connection over an ordered list of servers: a primary and a
// backup. Here the primary hangs (its event loop blocks; its sockets stay open, as a frozen
// host's do, so TCP alone would not notice for hours). The client's heartbeat declares it dead
// after the silence budget and the client fails over to the backup. The primary recovers; the
// client probes it in the background and fails back once it answered `healthy_probes` probes in
// a row and the client has been on the backup for `min_dwell`, which keeps a flapping primary
// from dragging its clients back and forth.
//
// Throughout, the client streams numbered messages. It keeps each one until a server
// acknowledges it and re-sends the unacknowledged ones after a switch: across servers delivery
// is at-least-once (exactly-once would take a resume_store shared by both servers), so the
// servers' application counts distinct sequence numbers, and every one sent must be there.
//
// The events are followed twice, as an application may: the callback given to the client prints
// them as they happen, and a coroutine awaiting client.async_wait_event drives the scenario.
// Exits 0 iff the failover and the failback happened, seen the same way by both, and every
// message sent was delivered; 1 otherwise.
#include <heartbeat/client/client.hpp>
#include <heartbeat/server/server.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <functional>
#include <future>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

namespace asio = boost::asio;
namespace hb = heartbeat;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using boost::system::error_code;
using kind = hb::client_event_kind;

namespace {

const hb::time_point t0 = hb::clock::now();

double ms(hb::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

std::mutex print_mutex; // the servers' threads print too

template <class... Args>
void say(const char* format, Args... args) {
    std::lock_guard lock(print_mutex);
    std::printf("[%7.1f ms] ", ms(hb::clock::now() - t0));
    if constexpr (sizeof...(Args) == 0)
        std::fputs(format, stdout);
    else
        std::printf(format, args...);
    std::printf("\n");
    std::fflush(stdout);
}

// What the servers' application received: how many times each sequence number arrived.
class deliveries {
public:
    enum server { primary = 0, backup = 1 };

    // Runs on the servers' threads.
    void record(server s, std::uint64_t seq) {
        {
            std::lock_guard lock(mutex_);
            ++times_[seq];
            ++per_server_[s];
        }
        on_record();
    }
    std::uint64_t on(server s) const {
        std::lock_guard lock(mutex_);
        return per_server_[s];
    }
    // How many of 1..sent arrived at least once, and how many arrivals were repeats.
    std::pair<std::uint64_t, std::uint64_t> distinct_and_repeats(std::uint64_t sent) const {
        std::lock_guard lock(mutex_);
        std::uint64_t distinct = 0, repeats = 0;
        for (const auto& [seq, n] : times_) {
            distinct += seq >= 1 && seq <= sent;
            repeats += n - 1;
        }
        return {distinct, repeats};
    }

    std::function<void()> on_record = [] {}; // set before the servers start

private:
    mutable std::mutex mutex_;
    std::map<std::uint64_t, unsigned> times_;
    std::uint64_t per_server_[2] = {0, 0};
};

// A tcp_server on its own io_context and thread, so that blocking that thread freezes the
// server the way a hung host freezes: nothing is read or answered, and its sockets stay open.
class server_thread {
public:
    server_thread(hb::server_config config, hb::server_callbacks callbacks)
        : server_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}, std::move(config),
                  std::move(callbacks)) {
        server_.async_run(asio::detached); // keeps ioc_ busy until close()
        thread_ = std::thread([this] {
            ioc_.run();
            stopped_.set_value();
        });
    }
    ~server_thread() { stop(2s); }

    hb::endpoint endpoint() const {
        return *hb::parse_endpoint("127.0.0.1:" + std::to_string(server_.local_endpoint().port()));
    }
    hb::server_stats stats() const { return server_.stats(); }
    void freeze() {
        release_.emplace();
        // Bounded, so that an example that fails before thawing still ends.
        asio::post(ioc_, [f = release_->get_future()]() mutable { f.wait_for(10s); });
    }
    void thaw() {
        if (release_)
            release_->set_value();
        release_.reset();
    }
    // Closes the server (CLOSE to every peer) and waits up to `limit` for its sessions to end and
    // its thread to finish; past that, stops the io_context. Returns whether it ended in time.
    bool stop(hb::duration limit) {
        if (!thread_.joinable())
            return true;
        thaw();
        server_.close();
        auto done = stopped_.get_future();
        const bool in_time = done.wait_for(limit) == std::future_status::ready;
        if (!in_time)
            ioc_.stop(); // the server's destructor then closes what is left at once
        thread_.join();
        return in_time;
    }

private:
    asio::io_context ioc_;
    hb::tcp_server server_;
    std::promise<void> stopped_;
    std::optional<std::promise<void>> release_;
    std::thread thread_;
};

// Wakes a coroutine waiting for a condition; notify() is called on the coroutine's thread, so
// checking and waiting cannot race.
class waiter {
public:
    explicit waiter(asio::io_context& ioc) : timer_(ioc) {}
    void notify() { timer_.cancel(); }
    template <class Condition>
    asio::awaitable<bool> until(Condition done, hb::duration limit) {
        const hb::time_point deadline = hb::clock::now() + limit;
        for (int wakeups = 0; !done() && hb::clock::now() < deadline && wakeups < 100000;
             ++wakeups) {
            timer_.expires_at(deadline);
            co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        co_return done();
    }

private:
    asio::steady_timer timer_;
};

} // namespace

int main() {
    hb::session_config session;
    session.heartbeat.interval = 100ms;     // ping after 100 ms without a frame from the peer
    session.heartbeat.pong_timeout = 100ms; // each ping's deadline
    session.heartbeat.max_missed = 3;       // budget: 100 + 3 x 100 = 400 ms
    const hb::duration budget = hb::silence_budget(session.heartbeat);

    asio::io_context ioc; // the client's thread
    waiter progress(ioc);
    deliveries delivered;
    delivered.on_record = [&] { asio::post(ioc, [&] { progress.notify(); }); };

    hb::server_config server_config;
    server_config.session = session;
    server_config.echo = false; // the application takes the messages (on_message)
    const auto receiving = [&](deliveries::server s) {
        hb::server_callbacks on;
        on.on_message = [&delivered, s](const hb::peer_info&, hb::received_message m) {
            delivered.record(s, m.seq);
        };
        return on;
    };
    server_thread primary(server_config, receiving(deliveries::primary));
    server_thread backup(server_config, receiving(deliveries::backup));
    const std::vector<hb::endpoint> endpoints{primary.endpoint(), backup.endpoint()};
    const auto name = [&](const std::string& label) {
        return label == endpoints[0].label   ? "primary"
               : label == endpoints[1].label ? "backup"
                                             : "?";
    };

    hb::client_config config;
    config.session = session;
    config.endpoints.failback = true;
    config.endpoints.healthy_probes = 3;   // answered probes in a row before failing back
    config.endpoints.min_dwell = 500ms;    // time on the backup before failing back
    config.probe_interval = 100ms;         // one probe of the primary every 100 ms
    config.probe_timeout = 300ms;          // a probe of the frozen primary fails after this
    config.failback_drain_timeout = 500ms; // wait for the backup's ACKs before switching
    config.connect_timeout = 1s;
    say("primary on %s, backup on %s; silence budget %.0f ms; failback after %u probes and %.0f ms "
        "on the backup",
        endpoints[0].label.c_str(), endpoints[1].label.c_str(), ms(budget),
        config.endpoints.healthy_probes, ms(config.endpoints.min_dwell));

    // The callback's view of the events.
    std::map<kind, int> called;
    bool primary_declared_dead = false;
    hb::client client(ioc.get_executor(), endpoints, config, [&](const hb::client_event& e) {
        ++called[e.kind];
        switch (e.kind) {
        case kind::rtt:
            return; // one per pong: too many to print
        case kind::dead:
            primary_declared_dead |= e.endpoint == endpoints[0].label && e.dead &&
                                     e.dead->reason == hb::error::peer_dead;
            say("event dead         %s: %u pings unanswered, silent for %.0f ms", name(e.endpoint),
                e.dead ? e.dead->missed : 0, e.dead ? ms(e.dead->silence) : 0.0);
            return;
        case kind::failover:
        case kind::failback:
            say("event %-12s %s -> %s", hb::to_string(e.kind), name(e.from), name(e.to));
            return;
        case kind::closed:
            say("event closed       %s: %s", name(e.endpoint), hb::error_name(e.reason));
            return;
        default:
            say("event %-12s %s", hb::to_string(e.kind), name(e.endpoint));
        }
    });
    std::optional<error_code> client_ended;
    client.async_run([&](error_code why) { client_ended = why; });

    // The stream: one numbered message every 10 ms, whatever the client is going through.
    bool stop_sending = false, sender_done = false;
    std::uint64_t sent = 0;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            asio::steady_timer pace(ioc);
            const hb::time_point until = hb::clock::now() + 15s;
            for (int i = 1; i <= 1500 && !stop_sending && hb::clock::now() < until; ++i) {
                auto [ec, seq] = co_await client.async_send("message " + std::to_string(i),
                                                            asio::as_tuple(asio::use_awaitable));
                if (ec)
                    break;
                sent = seq;
                pace.expires_after(10ms);
                co_await pace.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            sender_done = true;
            progress.notify();
        },
        asio::detached);

    // The coroutine's view of the same events. Each wait is bounded; rtt events pass by too.
    std::map<kind, int> awaited;
    const auto next_event =
        [&](hb::duration limit) -> asio::awaitable<std::optional<hb::client_event>> {
        asio::steady_timer timeout(ioc, limit);
        auto r = co_await (client.async_wait_event(asio::as_tuple(asio::use_awaitable)) ||
                           timeout.async_wait(asio::as_tuple(asio::use_awaitable)));
        if (r.index() != 0 || std::get<0>(std::get<0>(r)))
            co_return std::nullopt; // timed out, or the client has ended
        hb::client_event e = std::get<1>(std::get<0>(r));
        ++awaited[e.kind];
        co_return e;
    };
    const auto await_event = [&](kind wanted, hb::duration limit) -> asio::awaitable<bool> {
        const hb::time_point deadline = hb::clock::now() + limit;
        for (int i = 0; i < 10000 && hb::clock::now() < deadline; ++i) {
            const auto e = co_await next_event(deadline - hb::clock::now());
            if (!e)
                break;
            if (e->kind == wanted)
                co_return true;
        }
        say("scenario: no %s event within %.0f ms", hb::to_string(wanted), ms(limit));
        co_return false;
    };
    const auto delivered_on = [&](deliveries::server s, std::uint64_t at_least) {
        return progress.until([&, s, at_least] { return delivered.on(s) >= at_least; }, 3s);
    };

    bool failed_over = false, failed_back = false, all_delivered = false;
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            if (!co_await await_event(kind::connected, 3s) ||
                !co_await delivered_on(deliveries::primary, 20))
                co_return;
            say("scenario: %llu messages delivered on the primary; the primary hangs now",
                static_cast<unsigned long long>(delivered.on(deliveries::primary)));
            primary.freeze();
            failed_over = co_await await_event(kind::failover, budget * 3 + 2s);
            if (!failed_over)
                co_return;
            say("scenario: the client fails over; the primary recovers now");
            primary.thaw();
            failed_back = co_await await_event(
                kind::failback, config.endpoints.min_dwell + config.failback_drain_timeout + 5s);
            if (!failed_back)
                co_return;
            const std::uint64_t after = delivered.on(deliveries::primary) + 20;
            co_await delivered_on(deliveries::primary, after);
            say("scenario: back on the primary, messages flowing; stopping the stream");
        },
        [&](std::exception_ptr ep) {
            if (ep)
                say("scenario failed with an exception");
            // Whatever happened, stop the stream, let what was sent arrive, and close.
            asio::co_spawn(
                ioc,
                [&]() -> asio::awaitable<void> {
                    stop_sending = true;
                    co_await progress.until([&] { return sender_done; }, 1s);
                    all_delivered = co_await progress.until(
                        [&] { return delivered.distinct_and_repeats(sent).first == sent; }, 3s);
                    client.close();
                    // Take the rest of the events, so both views can be compared in full.
                    for (int i = 0; i < 10000; ++i)
                        if (!co_await next_event(3s))
                            break;
                },
                asio::detached);
        });

    ioc.run_for(20s); // returns once the client has ended and every coroutine is done
    if (!ioc.stopped()) {
        say("still running after 20 s: cancelling the client");
        client.cancel();
        ioc.run_for(3s);
    }
    const std::uint64_t primary_accepted = primary.stats().accepted;
    const bool servers_stopped = primary.stop(2s) & backup.stop(2s);

    const auto [distinct, repeats] = delivered.distinct_and_repeats(sent);
    const auto stats = client.stats();
    say("sent %llu; delivered %llu distinct (primary %llu, backup %llu arrivals); re-sent after a "
        "switch %llu; arrived twice %llu; lost %llu",
        static_cast<unsigned long long>(sent), static_cast<unsigned long long>(distinct),
        static_cast<unsigned long long>(delivered.on(deliveries::primary)),
        static_cast<unsigned long long>(delivered.on(deliveries::backup)),
        static_cast<unsigned long long>(stats.messages_resent),
        static_cast<unsigned long long>(repeats), static_cast<unsigned long long>(sent - distinct));
    const bool same_view = called[kind::dead] == awaited[kind::dead] &&
                           called[kind::failover] == awaited[kind::failover] &&
                           called[kind::failback] == awaited[kind::failback];
    say("events: callback saw %d dead, %d failover, %d failback; the coroutine %d, %d, %d",
        called[kind::dead], called[kind::failover], called[kind::failback], awaited[kind::dead],
        awaited[kind::failover], awaited[kind::failback]);
    say("the primary accepted %llu connections (the client's sessions and its failback probes)",
        static_cast<unsigned long long>(primary_accepted));
    say("client ended: %s", client_ended ? hb::error_name(*client_ended) : "never");

    const bool ok = failed_over && failed_back && primary_declared_dead && same_view &&
                    all_delivered && distinct == sent && sent > 0 &&
                    client_ended == hb::error::session_closed && servers_stopped;
    if (ok) {
        std::puts("OK: failed over from the frozen primary and back once it recovered; every "
                  "message delivered (at least once)");
        return 0;
    }
    std::printf(
        "FAILED: failover %s, failback %s, primary declared dead %s, same events both ways "
        "%s, all %llu messages delivered %s, client closed cleanly %s, servers stopped %s\n",
        failed_over ? "yes" : "NO", failed_back ? "yes" : "NO",
        primary_declared_dead ? "yes" : "NO", same_view ? "yes" : "NO",
        static_cast<unsigned long long>(sent), distinct == sent ? "yes" : "NO",
        client_ended == hb::error::session_closed ? "yes" : "NO", servers_stopped ? "yes" : "NO");
    return 1;
}
