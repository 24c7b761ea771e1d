// Heartbeats inside an existing networked service: a small key-value store with ephemeral keys.
//
// A key belongs to the client that wrote it and must vanish when that client dies, as ZooKeeper's
// ephemeral nodes or etcd's leases do: that is how service registries and lock tables forget a
// dead holder. TCP alone cannot make that promise, because a frozen host sends no FIN and its
// kernel keeps ACKing, so its keys would stay for hours (Linux keepalive: 2 h 11 min). The
// service below keeps its own acceptor and its own protocol ("SET key value", "GET key"); it
// only hands each accepted socket to a heartbeat::tcp_session, which frames the messages and
// declares a silent peer dead.
//
// What it shows:
//  * lifetime: a connection owns its session and is kept alive by the handler of the session's
//    async_run, which completes after every other operation of the session: so the session
//    outlives everything that uses it, and nothing is destroyed with a pending async_run;
//  * reacting to session_callbacks::on_verdict by dropping the dead peer's keys at once, before
//    its run completes (the run still says goodbye on the wire first);
//  * client A (on the service's thread) writes and reads; client B (its own io_context and
//    thread) registers a key, then its thread freezes. The service declares B dead after its
//    silence budget, drops B's key, and A is served as before.
// Exits 0 only if all of that happened, 1 otherwise.
#include <heartbeat/protocol/native/native_session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <cstdio>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace asio = boost::asio;
namespace hb = heartbeat;
using namespace std::chrono_literals;
using boost::system::error_code;
using tcp = asio::ip::tcp;

namespace {

const hb::time_point t0 = hb::clock::now();

double ms(hb::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

template <class... Args>
void say(const char* format, Args... args) {
    std::printf("[%7.1f ms] ", ms(hb::clock::now() - t0));
    if constexpr (sizeof...(Args) == 0)
        std::fputs(format, stdout);
    else
        std::printf(format, args...);
    std::printf("\n");
    std::fflush(stdout);
}

// The service's data: each key with its value and the client that owns it.
class ephemeral_store {
public:
    std::string apply(std::uint64_t client, std::string_view request) {
        const auto word = [&request] {
            const auto space = request.find(' ');
            const std::string_view w = request.substr(0, space);
            request.remove_prefix(space == std::string_view::npos ? request.size() : space + 1);
            return w;
        };
        const std::string_view command = word();
        const std::string_view key = word();
        if (command == "SET" && !key.empty() && !request.empty()) {
            entries_.insert_or_assign(std::string(key), entry{std::string(request), client});
            return "OK";
        }
        if (command == "GET" && !key.empty() && request.empty()) {
            const auto it = entries_.find(key);
            return it == entries_.end() ? "(nil)" : it->second.value;
        }
        return "ERR expected SET key value or GET key";
    }
    std::size_t drop_owned_by(std::uint64_t client) {
        return std::erase_if(entries_,
                             [client](const auto& e) { return e.second.owner == client; });
    }
    std::optional<std::uint64_t> owner(std::string_view key) const {
        const auto it = entries_.find(key);
        return it == entries_.end() ? std::nullopt : std::optional(it->second.owner);
    }

private:
    struct entry {
        std::string value;
        std::uint64_t owner = 0;
    };
    std::map<std::string, entry, std::less<>> entries_;
};

// What the service saw, for the checks at the end.
struct service_log {
    std::uint64_t dead_client = 0;
    std::optional<hb::verdict> verdict;
    std::size_t keys_dropped = 0;
    hb::time_point verdict_at{};
    std::map<std::uint64_t, std::pair<error_code, hb::time_point>> ended; // client -> run's end
};

class service;

// One client's connection. It owns its session; whoever holds a shared_ptr to it keeps the
// session alive, and the handler of async_run holds one until the session is completely over.
class connection : public std::enable_shared_from_this<connection> {
public:
    connection(tcp::socket socket, std::uint64_t id, service& owner);
    void start();
    void close() { session_.close(); }

private:
    void receive_next();

    const std::uint64_t id_;
    service& service_;
    hb::tcp_session session_; // after id_ and service_: its callbacks use them
};

// The service: its acceptor, its connections and its data. All of it runs on the one thread
// that runs `ioc`, sessions' callbacks included, so nothing here needs a lock (on a
// multi-threaded io_context, give each accepted socket a strand: see session.hpp).
class service {
public:
    service(asio::io_context& ioc, hb::session_config config)
        : acceptor_(ioc, {asio::ip::make_address("127.0.0.1"), 0}), config_(config) {}

    tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
    const hb::session_config& config() const { return config_; }

    void start() { accept_next(); }

    // Stops accepting and closes every connection; each session says goodbye and its run
    // completes, so the io_context runs out of work.
    void close() {
        acceptor_.close();
        std::vector<std::shared_ptr<connection>> open; // a copy: an ending session unregisters
        for (auto& [id, weak] : connections_)
            if (auto c = weak.lock())
                open.push_back(std::move(c));
        for (auto& c : open)
            c->close();
    }

    // Called by the connection of client `id`.
    std::string handle(std::uint64_t id, std::string_view request) {
        return store.apply(id, request);
    }
    void peer_dead(std::uint64_t id, const hb::verdict& v) {
        // Now, not when the run completes: the run still has its goodbye to write (bounded by
        // close_timeout), and the keys of a dead client must not be served a moment longer.
        log.keys_dropped = store.drop_owned_by(id);
        log.dead_client = id;
        log.verdict = v;
        log.verdict_at = hb::clock::now();
        say("service: client %llu dead (%u pings unanswered, silent for %.0f ms): dropped its %zu "
            "key(s)",
            static_cast<unsigned long long>(id), v.missed, ms(v.silence), log.keys_dropped);
        changed();
    }
    void ended(std::uint64_t id, error_code why) {
        connections_.erase(id);
        log.ended[id] = {why, hb::clock::now()};
        say("service: client %llu's session ended: %s", static_cast<unsigned long long>(id),
            hb::error_name(why));
        changed();
    }

    ephemeral_store store;
    service_log log;
    std::function<void()> changed = [] {}; // something in `log` changed

private:
    void accept_next() {
        acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
            if (ec)
                return; // closed
            const std::uint64_t id = next_id_++;
            error_code ignored;
            say("service: client %llu connected from port %u", static_cast<unsigned long long>(id),
                socket.remote_endpoint(ignored).port());
            auto c = std::make_shared<connection>(std::move(socket), id, *this);
            connections_.emplace(id, c); // weak: only the session's run keeps a connection
            c->start();
            accept_next();
        });
    }

    tcp::acceptor acceptor_;
    hb::session_config config_;
    std::uint64_t next_id_ = 1;
    std::map<std::uint64_t, std::weak_ptr<connection>> connections_;
};

connection::connection(tcp::socket socket, std::uint64_t id, service& owner)
    : id_(id), service_(owner), session_(std::move(socket), owner.config(), [this] {
          hb::session_callbacks on;
          // `this` is safe here: the callbacks belong to session_, a member, and go with it.
          on.on_verdict = [this](const hb::verdict& v) { service_.peer_dead(id_, v); };
          return on;
      }()) {}

void connection::start() {
    session_.async_run([self = shared_from_this()](error_code why) {
        self->service_.ended(self->id_, why);
    }); // the last reference goes with this handler, after every other operation completed
    receive_next();
}

void connection::receive_next() {
    session_.async_receive([self = shared_from_this()](error_code ec, std::string request) {
        if (ec)
            return; // the session ended; its run reports why
        // Replies go out in order; a reply that cannot be written any more is reported by the
        // run's ending too, so the send needs no handler of its own.
        self->session_.async_send(self->service_.handle(self->id_, request), asio::detached);
        self->receive_next();
    });
}

// One request from a client session and its reply.
asio::awaitable<std::string> call(hb::tcp_session& session, std::string request) {
    co_await session.async_send(request, asio::use_awaitable);
    std::string reply = co_await session.async_receive(asio::use_awaitable);
    co_return reply;
}

// Client B: a session on its own io_context and thread, so that blocking that thread freezes B
// the way a hung host freezes: it stops answering pings, and its socket stays open.
class threaded_client {
public:
    threaded_client() : work_(ioc_.get_executor()), thread_([this] { ioc_.run(); }) {}
    ~threaded_client() { shutdown(2s); }

    // Runs on B's thread (co_spawn it on executor()): connects, starts the session, sends one
    // request and returns the reply.
    asio::awaitable<std::string> connect_and_call(tcp::endpoint server, std::string request) {
        tcp::socket socket(ioc_);
        co_await socket.async_connect(server, asio::use_awaitable);
        session_.emplace(std::move(socket));
        session_->async_run([this](error_code why) { ended_.set_value(why); });
        co_return co_await call(*session_, std::move(request));
    }

    asio::io_context::executor_type executor() { return ioc_.get_executor(); }

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

    // Thaws and waits up to `limit` for the session to end by itself (a service that dropped B
    // has said goodbye); else closes it, and as a last resort cancels it, each bounded by
    // `limit`. Then joins the thread. Returns how the session ended, or nullopt if it never ran.
    std::optional<error_code> shutdown(hb::duration limit) {
        thaw();
        if (!thread_.joinable())
            return result_;
        if (session_) {
            auto done = ended_.get_future();
            if (done.wait_for(limit) != std::future_status::ready) {
                session_->close();
                if (done.wait_for(limit) != std::future_status::ready) {
                    session_->cancel(); // ends it at once
                    done.wait_for(limit);
                }
            }
            if (done.wait_for(0s) == std::future_status::ready)
                result_ = done.get();
        }
        work_.reset();
        if (!result_ && session_)
            ioc_.stop(); // the run never completed: stop the thread anyway (a bug to report)
        thread_.join();
        return result_;
    }

private:
    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> work_;
    std::optional<hb::tcp_session> session_;
    std::promise<error_code> ended_;
    std::optional<std::promise<void>> release_;
    std::optional<error_code> result_;
    std::thread thread_; // last: it starts running at once
};

// Wakes a coroutine waiting for a condition that handlers on the same thread make true. Check and
// wait cannot race: both run on the one thread.
class waiter {
public:
    explicit waiter(asio::io_context& ioc) : timer_(ioc) {}
    void notify() { timer_.cancel(); }
    template <class Condition>
    asio::awaitable<bool> until(Condition done, hb::duration limit) {
        const hb::time_point deadline = hb::clock::now() + limit;
        for (int wakeups = 0; !done() && hb::clock::now() < deadline && wakeups < 1000; ++wakeups) {
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
    asio::io_context ioc; // the service's thread, shared with client A

    hb::session_config server_side;
    server_side.heartbeat.interval = 100ms;     // ping a client after 100 ms of silence
    server_side.heartbeat.pong_timeout = 100ms; // each ping's deadline
    server_side.heartbeat.max_missed = 3;       // budget: 100 + 3 x 100 = 400 ms
    const hb::duration budget = hb::silence_budget(server_side.heartbeat);
    service kv(ioc, server_side);
    waiter changes(ioc);
    kv.changed = [&] { changes.notify(); };
    kv.start();
    say("service listening on 127.0.0.1:%u, silence budget %.0f ms", kv.local_endpoint().port(),
        ms(budget));

    // The clients keep the default (slower) heartbeat: here only the service's matters.
    std::optional<hb::tcp_session> a;
    std::optional<error_code> a_ended;
    threaded_client b;

    bool a_right_before = false, a_right_after = false, b_registered = false;
    bool verdict_in_time = false;
    hb::time_point frozen_at{};
    std::uint64_t b_id = 0;

    const auto scenario = [&]() -> asio::awaitable<void> {
        tcp::socket socket(ioc);
        co_await socket.async_connect(kv.local_endpoint(), asio::use_awaitable);
        a.emplace(std::move(socket));
        a->async_run([&](error_code why) {
            a_ended = why;
            changes.notify();
        });
        const auto a_call = [&](std::string request) -> asio::awaitable<std::string> {
            std::string reply = co_await call(*a, request);
            say("A: %-30s -> %s", request.c_str(), reply.c_str());
            co_return reply;
        };

        a_right_before = co_await a_call("SET color blue") == "OK";
        a_right_before &= co_await a_call("GET color") == "blue";

        const std::string reply = co_await asio::co_spawn(
            b.executor(), b.connect_and_call(kv.local_endpoint(), "SET worker/b 10.0.0.2:7000"),
            asio::use_awaitable);
        say("B: %-30s -> %s", "SET worker/b 10.0.0.2:7000", reply.c_str());
        b_registered = reply == "OK" && kv.store.owner("worker/b").has_value();
        b_id = kv.store.owner("worker/b").value_or(0);
        a_right_before &= co_await a_call("GET worker/b") == "10.0.0.2:7000";

        b.freeze();
        frozen_at = hb::clock::now();
        say("B's thread is frozen: B's socket stays open, nothing on B answers any more");
        // Generous: the verdict itself comes after the budget; the rest absorbs a loaded machine.
        verdict_in_time =
            co_await changes.until([&] { return kv.log.verdict.has_value(); }, budget * 3 + 1s);
        if (verdict_in_time)
            say("verdict %.0f ms after the freeze (silence budget %.0f ms)",
                ms(kv.log.verdict_at - frozen_at), ms(budget));
        else
            say("no verdict within %.0f ms of the freeze", ms(budget * 3 + 1s));

        a_right_after = co_await a_call("GET worker/b") == "(nil)";
        a_right_after &= co_await a_call("SET color green") == "OK";
        a_right_after &= co_await a_call("GET color") == "green";
        co_await changes.until([&] { return kv.log.ended.contains(b_id); }, 3s);
    };

    asio::co_spawn(ioc, scenario, [&](std::exception_ptr ep) {
        if (ep) {
            try {
                std::rethrow_exception(ep);
            } catch (const std::exception& e) {
                say("scenario failed: %s", e.what());
            }
        }
        // A leaves first, as a client would; then the service closes whatever is still open
        // (normally nothing) and its acceptor, and `ioc` runs out of work.
        if (a)
            a->close();
        asio::co_spawn(
            ioc,
            [&]() -> asio::awaitable<void> {
                co_await changes.until([&] { return !a || a_ended.has_value(); }, 3s);
                kv.close();
            },
            asio::detached);
    });
    ioc.run_for(20s); // returns once every session and the acceptor are done
    if (!ioc.stopped()) {
        say("still running after 20 s: cancelling");
        if (a)
            a->cancel();
        kv.close();
        ioc.run_for(3s);
    }

    const std::optional<error_code> b_end = b.shutdown(2s);
    say("B thawed; its own session ended: %s%s", b_end ? hb::error_name(*b_end) : "never started",
        kv.log.verdict ? " (the service had said goodbye while B was frozen)" : "");

    const auto b_run = kv.log.ended.find(b_id);
    const bool verdict_for_b = verdict_in_time && kv.log.dead_client == b_id && b_id != 0 &&
                               kv.log.verdict->reason == hb::error::peer_dead &&
                               kv.log.keys_dropped == 1;
    const bool dropped_before_run_ended = b_run != kv.log.ended.end() &&
                                          b_run->second.first == hb::error::peer_dead &&
                                          kv.log.verdict_at <= b_run->second.second;
    const bool a_closed = a_ended == hb::error::session_closed;
    if (verdict_for_b && dropped_before_run_ended)
        say("B's key was dropped on the verdict, %.1f ms before B's run completed",
            ms(b_run->second.second - kv.log.verdict_at));

    const bool ok = a_right_before && b_registered && verdict_for_b && dropped_before_run_ended &&
                    a_right_after && a_closed;
    if (ok) {
        std::puts("OK: A was served throughout; frozen B was declared dead (peer_dead) and its key "
                  "dropped on the verdict");
        return 0;
    }
    std::printf("FAILED: A's answers before the freeze %s, B registered %s, verdict for B with its "
                "key dropped %s, dropped before B's run ended with peer_dead %s, A's answers "
                "after %s, A closed cleanly %s\n",
                a_right_before ? "right" : "WRONG", b_registered ? "yes" : "NO",
                verdict_for_b ? "yes" : "NO", dropped_before_run_ended ? "yes" : "NO",
                a_right_after ? "right" : "WRONG", a_closed ? "yes" : "NO");
    return 1;
}
