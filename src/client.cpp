#include <heartbeat/client.hpp>

#include <heartbeat/backoff.hpp>
#include <heartbeat/detail/completion.hpp>
#include <heartbeat/detail/supervised_session.hpp>
#include <heartbeat/endpoint_policy.hpp>
#include <heartbeat/random.hpp>
#include <heartbeat/reconnect_budget.hpp>
#include <heartbeat/session.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/connect.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <algorithm>
#include <deque>
#include <mutex>
#include <optional>
#include <stdexcept>

namespace heartbeat {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

using detail::complete_later;

// A one-shot-at-a-time wake-up: a coroutine sleeps on it until a deadline or notify().
class wakeup {
public:
    explicit wakeup(const asio::any_io_executor& ex) : timer_(ex) {}
    asio::awaitable<void> wait_until(time_point deadline) {
        timer_.expires_at(deadline);
        co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    void notify() { timer_.cancel(); }

private:
    asio::steady_timer timer_;
};

// TLS 1.2 or later, trusting the system's CA paths; peer verification is set per connection.
std::shared_ptr<asio::ssl::context> default_tls_context() {
    auto ctx = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_client);
    ctx->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1);
    boost::system::error_code ignored; // no system CA store: verification then fails, loudly
    ctx->set_default_verify_paths(ignored);
    return ctx;
}

std::uint64_t random_session_id() {
    auto rng = default_uniform_source();
    std::uint64_t id = 0;
    while (id == 0)
        id = static_cast<std::uint64_t>(rng() * 18446744073709551615.0);
    return id;
}

} // namespace

struct client::impl : std::enable_shared_from_this<impl> {
    struct pending {
        std::uint64_t seq;
        std::string payload;
        bool handed = false;    // given to the current session
        bool ever_sent = false; // given to some session before
    };

    impl(executor_type ex, std::vector<endpoint> eps, client_config cfg, client_event_callback cb)
        : strand(asio::make_strand(ex)), endpoints(std::move(eps)), config(std::move(cfg)),
          on_event(std::move(cb)), policy(endpoints.size(), config.endpoints),
          retry(config.backoff, default_uniform_source()), wake(strand), id(random_session_id()) {
        const bool any_tls = std::any_of(endpoints.begin(), endpoints.end(), [](const endpoint& e) {
            return e.scheme == endpoint_scheme::wss;
        });
        if (any_tls && !config.websocket.tls_context)
            config.websocket.tls_context = default_tls_context();
    }

    asio::any_io_executor strand;
    std::vector<endpoint> endpoints;
    client_config config;
    client_event_callback on_event;
    endpoint_policy policy;
    backoff retry;
    wakeup wake;
    const std::uint64_t id;

    error_code stop_reason;
    bool run_started = false;
    bool ended = false;
    error_code end_reason;

    // Resend buffer.
    std::deque<pending> unacked;
    std::size_t unacked_bytes = 0;
    std::uint64_t next_seq = 1;
    std::uint64_t acked = 0;
    struct waiting_send {
        std::string payload;
        send_handler handler;
        std::uint64_t ticket;
    };
    std::deque<waiting_send> send_waiters;
    std::uint64_t next_ticket = 1;

    // Current session.
    std::shared_ptr<detail::supervised_session> session;
    bool feed_session = false;
    std::size_t current = 0;
    bool handshake_done = false; // the current session's peer completed the handshake
    // The connection attempt in progress, so close() and cancel() can end it at once.
    std::shared_ptr<detail::connect_attempt> in_flight;
    std::uint64_t generation = 0; // bumps per session; stale probe results are ignored

    // Receive side.
    std::deque<received_message> inbox;
    std::optional<receive_handler> pending_receive;

    // Events.
    std::deque<client_event> events;
    std::optional<event_handler> pending_event;

    mutable std::mutex stats_mutex;
    client_stats counters;

    // --- events ------------------------------------------------------------------------------

    void emit(client_event e) {
        if (on_event)
            on_event(e);
        if (pending_event) {
            auto h = std::move(*pending_event);
            pending_event.reset();
            complete_later(std::move(h), strand, error_code{}, std::move(e));
            return;
        }
        if (events.size() >= 1024)
            events.pop_front();
        events.push_back(std::move(e));
    }

    template <class F>
    void update_stats(F&& f) {
        std::lock_guard lock(stats_mutex);
        f(counters);
    }

    const std::string& label(std::size_t i) const { return endpoints[i].label; }

    // --- resend buffer -----------------------------------------------------------------------

    bool has_room(std::size_t bytes) const {
        if (unacked.empty())
            return true; // one message always fits, however large
        return unacked.size() < config.max_unacked_messages &&
               unacked_bytes + bytes <= config.max_unacked_bytes;
    }

    void hand_to_session(pending& p) {
        if (session->acknowledges()) {
            session->send(p.payload, [](error_code) {});
        } else {
            // No ACKs in this protocol: a message written to the transport counts as delivered.
            std::weak_ptr<impl> weak = weak_from_this();
            session->send(p.payload, [weak, seq = p.seq](error_code ec) {
                if (auto self = weak.lock(); self && !ec)
                    self->on_ack(seq);
            });
        }
        if (p.ever_sent)
            update_stats([](client_stats& s) { ++s.messages_resent; });
        p.handed = true;
        p.ever_sent = true;
    }

    void accept(std::string payload, send_handler h) {
        const std::uint64_t seq = next_seq++;
        unacked_bytes += payload.size();
        unacked.push_back(pending{seq, std::move(payload)});
        if (session && feed_session)
            hand_to_session(unacked.back());
        update_stats([&](client_stats& s) {
            ++s.messages_accepted;
            s.unacked = unacked.size();
        });
        complete_later(std::move(h), strand, error_code{}, seq);
    }

    void admit_waiters() {
        while (!send_waiters.empty() && has_room(send_waiters.front().payload.size())) {
            auto w = std::move(send_waiters.front());
            send_waiters.pop_front();
            accept(std::move(w.payload), std::move(w.handler));
        }
    }

    void on_ack(std::uint64_t seq) {
        if (seq <= acked)
            return;
        acked = seq;
        while (!unacked.empty() && unacked.front().seq <= seq) {
            unacked_bytes -= unacked.front().payload.size();
            unacked.pop_front();
        }
        update_stats([&](client_stats& s) {
            s.messages_acked = acked;
            s.unacked = unacked.size();
        });
        admit_waiters();
        wake.notify(); // a failback drain may be waiting for exactly this
    }

    // --- connecting --------------------------------------------------------------------------

    detail::connect_options dial_options() const {
        return {{config.resolve_timeout, config.connect_timeout}, config.websocket};
    }

    // A heartbeat-only connection: healthy when the endpoint answers a ping in time.
    asio::awaitable<bool> probe(std::size_t target) {
        auto self = shared_from_this();
        session_config pc = config.session;
        pc.session_id = 0;
        pc.heartbeat.interval = std::min<duration>(pc.heartbeat.interval, milliseconds(50));
        pc.heartbeat.jitter = 0.0;
        pc.heartbeat.pong_timeout = config.probe_timeout;
        pc.handshake_timeout = config.probe_timeout;
        pc.tcp_keepalive = false;
        auto done = std::make_shared<bool>(false);
        auto healthy = std::make_shared<bool>(false);
        auto signal = std::make_shared<wakeup>(strand);
        session_callbacks cb;
        cb.on_rtt = [healthy, signal](duration, const rtt_estimator&) {
            *healthy = true;
            signal->notify();
        };
        auto [ec, s] =
            co_await detail::connect_supervised(strand, endpoints[target], pc, cb, dial_options());
        if (ec)
            co_return false;
        s->run([s, done, signal](error_code) {
            *done = true;
            signal->notify();
        });
        const time_point deadline = clock::now() + config.probe_timeout;
        while (!*healthy && !*done && clock::now() < deadline)
            co_await signal->wait_until(deadline);
        s->close();
        while (!*done)
            co_await signal->wait_until(clock::now() + seconds(5));
        co_return *healthy;
    }

    // --- one session -------------------------------------------------------------------------

    struct session_outcome {
        error_code reason;
        std::optional<std::size_t> failback_to;
    };

    // Config and callbacks of the next session on endpoint `idx`.
    std::pair<session_config, session_callbacks> session_setup(std::size_t idx) {
        session_config sc = config.session;
        sc.session_id = id;
        // Messages accepted while connecting join `unacked` and are handed over in order, so
        // the first one handed is this one.
        sc.first_seq = unacked.empty() ? next_seq : unacked.front().seq;
        sc.resume = nullptr;
        session_callbacks cb;
        cb.on_state_change = [this, idx](peer_state from, peer_state to, unsigned missed) {
            if (from == peer_state::connecting) {
                // A session, not just a TCP connection the peer dropped: `connected` now, after
                // the protocol handshake (HELLO; for WebSocket the upgrade, done before the
                // session ran), so a peer that accepts and drops is never reported connected.
                handshake_done = true;
                client_event c;
                c.kind = client_event_kind::connected;
                c.endpoint = label(idx);
                emit(std::move(c));
            }
            client_event e;
            e.endpoint = label(idx);
            e.missed = missed;
            if (to == peer_state::suspect)
                e.kind = client_event_kind::suspect;
            else if (to == peer_state::alive)
                e.kind = client_event_kind::alive;
            else
                return;
            emit(std::move(e));
        };
        cb.on_rtt = [this, idx](duration rtt, const rtt_estimator& est) {
            client_event e;
            e.kind = client_event_kind::rtt;
            e.endpoint = label(idx);
            e.rtt = rtt;
            e.srtt = est.srtt();
            emit(std::move(e));
        };
        cb.on_verdict = [this, idx](const verdict& v) {
            update_stats([](client_stats& s) { ++s.verdicts; });
            client_event e;
            e.kind = client_event_kind::dead;
            e.endpoint = label(idx);
            e.dead = v;
            e.missed = v.missed;
            e.reason = v.reason;
            emit(std::move(e));
        };
        cb.on_ack = [this](std::uint64_t seq) { on_ack(seq); };
        return {sc, cb};
    }

    asio::awaitable<session_outcome> run_session(std::size_t idx,
                                                 std::shared_ptr<detail::supervised_session> s) {
        auto self = shared_from_this();
        const std::uint64_t gen = ++generation;
        session = s;
        feed_session = true;
        current = idx;
        const time_point started = clock::now();
        update_stats([&](client_stats& st) {
            ++st.sessions;
            st.connected = true;
            st.endpoint = label(idx);
        });
        for (auto& p : unacked)
            hand_to_session(p);

        auto done = std::make_shared<bool>(false);
        auto reason = std::make_shared<error_code>();
        s->run([self, done, reason](error_code ec) {
            *reason = ec;
            *done = true;
            self->wake.notify();
        });
        forward_messages(s);

        session_outcome outcome;
        bool probe_running = false;
        time_point next_probe = clock::now() + config.probe_interval;
        bool draining = false, close_requested = false;
        time_point drain_deadline = time_point::max();
        while (!*done) {
            const time_point now = clock::now();
            if (stop_reason && !close_requested) {
                close_requested = true;
                if (stop_reason == error::session_closed)
                    s->close();
                else
                    s->cancel();
            }
            const bool failback_applies = config.endpoints.failback && idx > 0 && !draining;
            if (failback_applies && !probe_running && now >= next_probe) {
                if (auto target = policy.probe_target()) {
                    probe_running = true;
                    const std::size_t t = *target;
                    asio::co_spawn(strand, probe(t),
                                   [self, gen, t, &probe_running](std::exception_ptr, bool ok) {
                                       if (self->generation != gen)
                                           return; // that session is gone; so is `probe_running`
                                       probe_running = false;
                                       self->policy.on_probe_result(t, ok, clock::now());
                                       self->wake.notify();
                                   });
                }
                next_probe = now + config.probe_interval;
            }
            if (failback_applies && !close_requested) {
                if (auto target = policy.failback_target(now)) {
                    // Stop feeding this session; switch once it has ACKed what it was given.
                    draining = true;
                    feed_session = false;
                    outcome.failback_to = *target;
                    drain_deadline = now + config.failback_drain_timeout;
                }
            }
            if (draining && !close_requested) {
                const bool drained = unacked.empty() || !unacked.front().handed;
                if (drained || now >= drain_deadline) {
                    close_requested = true;
                    s->close();
                }
            }
            time_point wake_at = time_point::max();
            if (failback_applies) {
                wake_at = std::min(wake_at, next_probe);
                wake_at = std::min(wake_at, std::max(now, policy.failback_not_before()));
            }
            if (draining)
                wake_at = std::min(wake_at, drain_deadline);
            co_await wake.wait_until(wake_at);
        }
        ++generation; // detaches any probe still running from this loop's locals
        session.reset();
        feed_session = false;
        for (auto& p : unacked)
            p.handed = false;
        outcome.reason = *reason;
        retry.on_session_lived(clock::now() - started);
        update_stats([](client_stats& st) { st.connected = false; });
        client_event e;
        e.kind = client_event_kind::closed;
        e.endpoint = label(idx);
        e.reason = *reason;
        emit(std::move(e));
        co_return outcome;
    }

    // Keeps one receive outstanding on the session and forwards messages to the application.
    void forward_messages(std::shared_ptr<detail::supervised_session> s) {
        std::weak_ptr<impl> weak = weak_from_this();
        s->receive([weak, s](error_code ec, received_message m) {
            auto self = weak.lock();
            if (!self || ec)
                return;
            self->update_stats([](client_stats& st) { ++st.messages_received; });
            if (self->pending_receive) {
                auto h = std::move(*self->pending_receive);
                self->pending_receive.reset();
                complete_later(std::move(h), self->strand, error_code{}, std::move(m));
            } else {
                self->inbox.push_back(std::move(m));
            }
            self->forward_messages(s);
        });
    }

    // --- the supervisor loop -----------------------------------------------------------------

    void fail_over_from(std::size_t idx) {
        const std::size_t next = policy.on_failure(clock::now());
        if (next != idx) {
            update_stats([](client_stats& s) { ++s.failovers; });
            client_event e;
            e.kind = client_event_kind::failover;
            e.from = label(idx);
            e.to = label(next);
            emit(std::move(e));
        }
    }

    // The fatal reasons (is_fatal) an attempt can end with that are not our own doing: a local
    // close or cancel ends the run through stop_reason before anyone looks at the attempt.
    static std::optional<error_code> fatal_for_supervisor(const error_code& ec) {
        if (ec == error::invalid_config || ec == error::unsupported_version ||
            ec == error::incompatible_interval)
            return ec;
        return std::nullopt;
    }

    asio::awaitable<error_code> run() {
        auto self = shared_from_this();
        unsigned failed_attempts = 0;
        unsigned attempt = 0;
        time_point down_since = clock::now();
        time_point no_session_since = down_since; // for give_up.max_downtime
        bool reconnecting = false, ever_connected = false;
        // Attempts in a row that ended with a reason reconnecting cannot cure (see is_fatal).
        std::size_t fatal_in_a_row = 0;
        reconnect_budget& budget =
            config.budget ? *config.budget : reconnect_budget::process_wide();
        for (;;) {
            if (stop_reason)
                co_return stop_reason;
            const std::size_t idx = policy.current();
            if (reconnecting && config.use_reconnect_budget) {
                const duration wait = budget.reserve(clock::now());
                if (wait > duration::zero())
                    co_await wake.wait_until(clock::now() + wait);
                if (stop_reason)
                    co_return stop_reason;
            }
            ++attempt;
            update_stats([](client_stats& s) { ++s.attempts; });
            {
                client_event e;
                e.kind = client_event_kind::connecting;
                e.endpoint = label(idx);
                e.attempt = attempt;
                emit(std::move(e));
            }
            handshake_done = false;
            auto [sc, cb] = session_setup(idx);
            in_flight = std::make_shared<detail::connect_attempt>();
            auto [ec, connected] = co_await detail::connect_supervised(
                strand, endpoints[idx], sc, cb, dial_options(), in_flight);
            in_flight.reset();
            if (stop_reason)
                co_return stop_reason;
            reconnecting = true;
            bool failed_attempt = true;  // a connect that failed, or a session never established
            error_code attempt_end = ec; // why this attempt (connect, or the session) ended
            if (ec) {
                update_stats([](client_stats& s) { ++s.connect_failures; });
                client_event closed;
                closed.kind = client_event_kind::closed;
                closed.endpoint = label(idx);
                closed.reason = ec;
                emit(std::move(closed));
            } else {
                policy.on_connected(clock::now());
                if (ever_connected)
                    update_stats([&](client_stats& s) { s.downtime += clock::now() - down_since; });
                ever_connected = true;
                auto outcome = co_await run_session(idx, std::move(connected));
                attempt_end = outcome.reason;
                down_since = clock::now();
                if (stop_reason)
                    co_return stop_reason;
                if (outcome.failback_to) {
                    const std::size_t to = *outcome.failback_to;
                    policy.on_failback(to, clock::now());
                    update_stats([](client_stats& s) { ++s.failbacks; });
                    client_event e;
                    e.kind = client_event_kind::failback;
                    e.from = label(idx);
                    e.to = label(to);
                    emit(std::move(e));
                    continue;
                }
                // Accepted and dropped before the peer's HELLO (a server over its session
                // limit, a proxy without a backend): a failed attempt, not a session.
                failed_attempt = !handshake_done;
                if (!failed_attempt) {
                    failed_attempts = 0;
                    no_session_since = down_since;
                }
            }
            if (auto fatal = fatal_for_supervisor(attempt_end)) {
                // Our own configuration is wrong: no endpoint will do better. A peer that speaks
                // another protocol version, or whose interval range excludes ours: another
                // endpoint may be compatible, so give up only once every one of them said so.
                ++fatal_in_a_row;
                if (*fatal == error::invalid_config || fatal_in_a_row >= endpoints.size()) {
                    client_event e;
                    e.kind = client_event_kind::gave_up;
                    e.reason = *fatal;
                    emit(std::move(e));
                    co_return *fatal;
                }
            } else {
                fatal_in_a_row = 0;
            }
            if (failed_attempt) {
                ++failed_attempts;
                const auto& rule = config.give_up;
                if ((rule.max_attempts && failed_attempts >= rule.max_attempts) ||
                    (rule.max_downtime > duration::zero() &&
                     clock::now() - no_session_since >= rule.max_downtime)) {
                    client_event e;
                    e.kind = client_event_kind::gave_up;
                    e.reason = error::all_endpoints_failed;
                    emit(std::move(e));
                    co_return error::all_endpoints_failed;
                }
            }
            fail_over_from(idx);
            // Every endpoint failed in a row (connects, or sessions that died): back off before
            // the next round. A session that lived backoff.reset_after reset the base, so after
            // a long healthy session this costs at most `initial` (fully jittered), which also
            // de-synchronises a fleet that lost the same server.
            if (policy.round_exhausted()) {
                const duration delay = retry.next_delay();
                client_event e;
                e.kind = client_event_kind::reconnecting;
                e.attempt = attempt;
                e.delay = delay;
                emit(std::move(e));
                co_await wake.wait_until(clock::now() + delay);
            }
        }
    }

    void finish(error_code reason) {
        ended = true;
        end_reason = reason;
        for (auto& w : send_waiters)
            complete_later(std::move(w.handler), strand, reason, std::uint64_t{0});
        send_waiters.clear();
        if (pending_receive && inbox.empty()) {
            auto h = std::move(*pending_receive);
            pending_receive.reset();
            complete_later(std::move(h), strand, reason, received_message{});
        }
    }
};

client::client(executor_type executor, std::vector<endpoint> endpoints, client_config config,
               client_event_callback on_event) {
    if (endpoints.empty())
        throw std::invalid_argument("heartbeat::client needs at least one endpoint");
    impl_ = std::make_shared<impl>(std::move(executor), std::move(endpoints), std::move(config),
                                   std::move(on_event));
}

client::~client() {
    if (impl_)
        cancel();
}

client::executor_type client::get_executor() const noexcept {
    return impl_->strand;
}

std::uint64_t client::session_id() const noexcept {
    return impl_->id;
}

void client::start_run(run_handler h) {
    auto i = impl_;
    asio::dispatch(i->strand, [i, h = std::move(h)]() mutable {
        if (i->run_started) {
            complete_later(std::move(h), i->strand, error_code(asio::error::already_started));
            return;
        }
        i->run_started = true;
        if (validate(i->config)) {
            i->finish(error::invalid_config);
            complete_later(std::move(h), i->strand, error_code(error::invalid_config));
            return;
        }
        auto slot = asio::get_associated_cancellation_slot(h);
        if (slot.is_connected()) {
            std::weak_ptr<impl> weak = i;
            slot.assign([weak](asio::cancellation_type) {
                if (auto p = weak.lock())
                    asio::dispatch(p->strand, [p] {
                        if (!p->stop_reason)
                            p->stop_reason = asio::error::operation_aborted;
                        if (p->session)
                            p->session->cancel();
                        if (p->in_flight)
                            p->in_flight->abort();
                        p->wake.notify();
                    });
            });
        }
        auto completion = std::make_shared<run_handler>(std::move(h));
        asio::co_spawn(i->strand, i->run(),
                       [i, completion](std::exception_ptr ep, error_code reason) {
                           if (ep)
                               reason = asio::error::fault;
                           i->finish(reason);
                           complete_later(std::move(*completion), i->strand, reason);
                       });
    });
}

void client::start_send(std::string message, send_handler h) {
    auto i = impl_;
    asio::dispatch(i->strand, [i, m = std::move(message), h = std::move(h)]() mutable {
        if (i->ended || i->stop_reason) {
            complete_later(std::move(h), i->strand, i->ended ? i->end_reason : i->stop_reason,
                           std::uint64_t{0});
            return;
        }
        if (i->send_waiters.empty() && i->has_room(m.size())) {
            i->accept(std::move(m), std::move(h));
            return;
        }
        const std::uint64_t ticket = i->next_ticket++;
        auto slot = asio::get_associated_cancellation_slot(h);
        if (slot.is_connected()) {
            std::weak_ptr<impl> weak = i;
            slot.assign([weak, ticket](asio::cancellation_type) {
                auto p = weak.lock();
                if (!p)
                    return;
                auto& q = p->send_waiters;
                for (auto it = q.begin(); it != q.end(); ++it)
                    if (it->ticket == ticket) {
                        auto handler = std::move(it->handler);
                        q.erase(it);
                        complete_later(std::move(handler), p->strand,
                                       error_code(asio::error::operation_aborted),
                                       std::uint64_t{0});
                        return;
                    }
            });
        }
        i->send_waiters.push_back({std::move(m), std::move(h), ticket});
    });
}

void client::start_receive(receive_handler h) {
    auto i = impl_;
    asio::dispatch(i->strand, [i, h = std::move(h)]() mutable {
        if (i->pending_receive) {
            complete_later(std::move(h), i->strand, error_code(asio::error::already_started),
                           received_message{});
            return;
        }
        if (!i->inbox.empty()) {
            auto m = std::move(i->inbox.front());
            i->inbox.pop_front();
            complete_later(std::move(h), i->strand, error_code{}, std::move(m));
            return;
        }
        if (i->ended) {
            complete_later(std::move(h), i->strand, i->end_reason, received_message{});
            return;
        }
        std::weak_ptr<impl> weak = i;
        detail::park_cancellable(i->pending_receive, std::move(h), i->strand, received_message{},
                                 [weak]() -> std::shared_ptr<std::optional<receive_handler>> {
                                     auto p = weak.lock();
                                     return p ? std::shared_ptr<std::optional<receive_handler>>(
                                                    p, &p->pending_receive)
                                              : nullptr;
                                 });
    });
}

void client::start_wait_event(event_handler h) {
    auto i = impl_;
    asio::dispatch(i->strand, [i, h = std::move(h)]() mutable {
        if (i->pending_event) {
            complete_later(std::move(h), i->strand, error_code(asio::error::already_started),
                           client_event{});
            return;
        }
        if (!i->events.empty()) {
            auto e = std::move(i->events.front());
            i->events.pop_front();
            complete_later(std::move(h), i->strand, error_code{}, std::move(e));
            return;
        }
        if (i->ended) {
            complete_later(std::move(h), i->strand, i->end_reason, client_event{});
            return;
        }
        std::weak_ptr<impl> weak = i;
        detail::park_cancellable(i->pending_event, std::move(h), i->strand, client_event{},
                                 [weak]() -> std::shared_ptr<std::optional<event_handler>> {
                                     auto p = weak.lock();
                                     return p ? std::shared_ptr<std::optional<event_handler>>(
                                                    p, &p->pending_event)
                                              : nullptr;
                                 });
    });
}

void client::close() {
    auto i = impl_;
    asio::dispatch(i->strand, [i] {
        if (i->ended || i->stop_reason)
            return;
        i->stop_reason = error::session_closed;
        for (auto& w : i->send_waiters)
            complete_later(std::move(w.handler), i->strand, error_code(error::session_closed),
                           std::uint64_t{0});
        i->send_waiters.clear();
        if (i->in_flight)
            i->in_flight->abort(); // nothing to flush yet: no need to wait for the connect
        i->wake.notify();
    });
}

void client::cancel() {
    auto i = impl_;
    asio::dispatch(i->strand, [i] {
        if (i->ended)
            return;
        if (!i->stop_reason)
            i->stop_reason = asio::error::operation_aborted;
        if (i->session)
            i->session->cancel();
        if (i->in_flight)
            i->in_flight->abort();
        i->wake.notify();
    });
}

client_stats client::stats() const {
    std::lock_guard lock(impl_->stats_mutex);
    return impl_->counters;
}

std::vector<received_message> client::unacked_messages() const {
    std::vector<received_message> out;
    auto i = impl_;
    for (const auto& p : i->unacked)
        out.push_back({p.seq, p.payload});
    return out;
}

} // namespace heartbeat
