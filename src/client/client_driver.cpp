// heartbeat::client's driver: performs the supervisor machine's actions (see client_impl.hpp).
#include "client_impl.hpp"

#include "probe.hpp"

#include <heartbeat/core/error.hpp>
#include <heartbeat/core/random.hpp>
#include <heartbeat/detail/completion.hpp>
#include <heartbeat/detail/context_shutdown_service.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/strand.hpp>

#include <algorithm>
#include <type_traits>
#include <utility>
#include <variant>

namespace heartbeat {

namespace asio = boost::asio;
namespace sv = supervisor;
using boost::system::error_code;
using detail::complete_later;

namespace {

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

client_config with_tls_context(client_config cfg, const std::vector<endpoint>& endpoints) {
    const bool any_tls = std::any_of(endpoints.begin(), endpoints.end(), [](const endpoint& e) {
        return e.tls(); // wss, rediss, mqtts, lines
    });
    if (any_tls && !cfg.websocket.tls_context)
        cfg.websocket.tls_context = default_tls_context();
    return cfg;
}

std::vector<std::string> labels_of(const std::vector<endpoint>& endpoints) {
    std::vector<std::string> out;
    for (const auto& e : endpoints)
        out.push_back(e.label);
    return out;
}

std::uint64_t random_session_id() {
    auto rng = default_uniform_source();
    std::uint64_t id = 0;
    while (id == 0)
        id = static_cast<std::uint64_t>(rng() * 18446744073709551615.0);
    return id;
}

} // namespace

client::impl::impl(executor_type ex, std::vector<endpoint> eps, client_config cfg,
                   client_event_callback cb)
    : strand(asio::make_strand(ex)), endpoints(std::move(eps)),
      config(with_tls_context(std::move(cfg), endpoints)), on_event(std::move(cb)),
      id(random_session_id()), fsm(labels_of(endpoints), config),
      outbox(config.max_unacked_messages, config.max_unacked_bytes), timer(strand) {
    if (!config.metrics)
        config.metrics = config.session.metrics;
    if (config.metrics)
        register_endpoint_series();
}

client::impl::~impl() = default;

// --- the machine -----------------------------------------------------------------------------

void client::impl::feed(sv::input in) {
    if (ended)
        return;
    inputs.push_back(std::move(in));
    if (feeding)
        return;
    feeding = true;
    try {
        while (!inputs.empty() && !ended) {
            const sv::input next = std::move(inputs.front());
            inputs.pop_front();
            auto actions = fsm.resume(clock::now(), next);
            publish_machine_counters();
            for (auto& a : actions)
                perform(a);
        }
    } catch (...) {
        feeding = false;
        inputs.clear();
        abandon();
        return;
    }
    inputs.clear();
    feeding = false;
}

void client::impl::perform(sv::action& a) {
    std::visit(
        [this](auto& x) {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, sv::connect>) {
                connect(x.endpoint);
            } else if constexpr (std::is_same_v<T, sv::start_session>) {
                start_session();
            } else if constexpr (std::is_same_v<T, sv::emit>) {
                emit(std::move(x.event));
            } else if constexpr (std::is_same_v<T, sv::wait_until>) {
                arm_timer(x.deadline);
            } else if constexpr (std::is_same_v<T, sv::start_probe>) {
                start_probe(x.endpoint, x.probe);
            } else if constexpr (std::is_same_v<T, sv::drain_and_switch>) {
                feed_session = false;
                awaiting_drain = true;
                report_if_drained();
            } else if constexpr (std::is_same_v<T, sv::close_session>) {
                if (session)
                    session->close();
            } else if constexpr (std::is_same_v<T, sv::cancel_session>) {
                if (session)
                    session->cancel();
            } else if constexpr (std::is_same_v<T, sv::abort_connect>) {
                if (in_flight)
                    in_flight->abort();
            } else {
                static_assert(std::is_same_v<T, sv::finish>);
                finish(x.reason);
            }
        },
        a);
}

void client::impl::begin_run(run_handler h) {
    shutdown_registration.add(asio::query(strand, asio::execution::context), weak_from_this(),
                              [](impl& self) { self.drop_at_shutdown(); });
    run_completion.emplace(std::move(h)); // emplace: see park_cancellable
    feed(sv::start{});
}

void client::impl::give_up_before_start(error_code reason) {
    client_event e;
    e.kind = client_event_kind::gave_up;
    e.reason = reason;
    e.at = clock::now();
    emit(std::move(e));
    finish(reason);
}

void client::impl::finish(error_code reason) {
    ended = true;
    end_reason = reason;
    ++timer_generation;
    timer.cancel();
    connected.reset();
    fail_waiters(reason);
    if (pending_receive && inbox.empty()) {
        auto h = std::move(*pending_receive);
        pending_receive.reset();
        complete_later(std::move(h), strand, reason, received_message{});
    }
    if (run_completion) {
        auto h = std::move(*run_completion);
        run_completion.reset();
        complete_later(std::move(h), strand, reason);
    }
}

void client::impl::abandon() {
    if (session)
        session->cancel();
    if (in_flight)
        in_flight->abort();
    finish(asio::error::fault);
}

void client::impl::drop_at_shutdown() {
    ended = true;
    for (auto& weak : session_anchors)
        if (auto anchor = weak.lock())
            anchor->reset();
    session_anchors.clear();
    session.reset();
    connected.reset();
    in_flight.reset();
    run_completion.reset();
    pending_receive.reset();
    pending_event.reset();
    send_waiters.clear();
    inputs.clear();
}

void client::impl::emit(client_event e) {
    observe(e);
    if (on_event)
        on_event(e);
    if (pending_event) {
        auto h = std::move(*pending_event);
        pending_event.reset();
        complete_later(std::move(h), strand, error_code{}, std::move(e));
        return;
    }
    // Capacity 0: the application takes events through the callback only; nothing is queued,
    // so nothing counts as dropped.
    if (config.event_queue_capacity == 0)
        return;
    if (events.size() >= config.event_queue_capacity) {
        events.pop_front();
        update_stats([](client_stats& s) { ++s.events_dropped; });
    }
    events.push_back(std::move(e));
}

void client::impl::publish_machine_counters() {
    const supervisor_counters& m = fsm.counters();
    const bool new_endpoint = m.endpoint != published_endpoint;
    published_endpoint = m.endpoint;
    update_stats([&](client_stats& s) {
        if (new_endpoint && m.endpoint)
            s.endpoint = endpoints[*m.endpoint].label;
        s.connected = m.connected;
        s.sessions = m.sessions;
        s.attempts = m.attempts;
        s.connect_failures = m.connect_failures;
        s.verdicts = m.verdicts;
        s.failovers = m.failovers;
        s.failbacks = m.failbacks;
        s.downtime = m.downtime;
    });
}

void client::impl::arm_timer(time_point deadline) {
    const std::uint64_t generation = ++timer_generation;
    timer.cancel();
    if (deadline == time_point::max())
        return;
    timer.expires_at(deadline);
    timer.async_wait([self = shared_from_this(), generation](error_code ec) {
        if (!ec && generation == self->timer_generation)
            self->feed(sv::timer_fired{});
    });
}

void client::impl::start_probe(std::size_t idx, std::uint64_t probe) {
    asio::co_spawn(
        strand,
        detail::probe_endpoint(strand, endpoints[idx],
                               detail::probe_config(config.session, config.probe_timeout),
                               config.probe_timeout, dial_options()),
        [self = shared_from_this(), probe](std::exception_ptr, bool healthy) {
            self->feed(sv::probe_done{probe, healthy});
        });
}

// --- resend buffer ---------------------------------------------------------------------------

void client::impl::accept(std::string payload, send_handler h) {
    auto& m = outbox.push(std::move(payload));
    const std::uint64_t seq = m.seq;
    if (session && feed_session)
        hand_to_session(m);
    update_stats([&](client_stats& s) {
        ++s.messages_accepted;
        s.unacked = outbox.size();
    });
    complete_later(std::move(h), strand, error_code{}, seq);
}

void client::impl::admit_waiters() {
    while (!send_waiters.empty() && outbox.has_room(send_waiters.front().payload.size())) {
        auto w = std::move(send_waiters.front());
        send_waiters.pop_front();
        accept(std::move(w.payload), std::move(w.handler));
    }
}

void client::impl::fail_waiters(error_code reason) {
    for (auto& w : send_waiters)
        complete_later(std::move(w.handler), strand, reason, std::uint64_t{0});
    send_waiters.clear();
}

void client::impl::hand_to_session(detail::resend_buffer::message& m) {
    if (session->acknowledges()) {
        session->send(m.payload, [](error_code) {});
    } else {
        // No ACKs in this protocol: a message written to the transport counts as delivered.
        session->send(m.payload, [weak = weak_from_this(), seq = m.seq](error_code ec) {
            if (auto self = weak.lock(); self && !ec)
                self->on_ack(seq);
        });
    }
    if (m.ever_sent)
        update_stats([](client_stats& s) { ++s.messages_resent; });
    m.handed = true;
    m.ever_sent = true;
}

void client::impl::on_ack(std::uint64_t seq) {
    if (!outbox.acknowledge(seq))
        return;
    update_stats([&](client_stats& s) {
        s.messages_acked = outbox.acked();
        s.unacked = outbox.size();
    });
    admit_waiters();
    report_if_drained();
}

void client::impl::report_if_drained() {
    if (!awaiting_drain || !outbox.drained())
        return;
    awaiting_drain = false;
    feed(sv::drained{});
}

// --- sessions --------------------------------------------------------------------------------

detail::connect_options client::impl::dial_options() const {
    return {{config.resolve_timeout, config.connect_timeout}, config.websocket};
}

void client::impl::connect(std::size_t idx) {
    auto [sc, cb] = session_setup(idx);
    in_flight = std::make_shared<detail::connect_attempt>();
    // Owns what connect_supervised takes by reference for as long as it runs.
    auto attempt = [](std::shared_ptr<impl> self, std::size_t idx, session_config sc,
                      session_callbacks cb, detail::connect_options options,
                      std::shared_ptr<detail::connect_attempt> abort)
        -> asio::awaitable<detail::connect_result> {
        co_return co_await detail::connect_supervised(self->strand, self->endpoints[idx], sc,
                                                      std::move(cb), options, std::move(abort));
    };
    asio::co_spawn(
        strand,
        attempt(shared_from_this(), idx, std::move(sc), std::move(cb), dial_options(), in_flight),
        [self = shared_from_this()](std::exception_ptr ep, detail::connect_result r) {
            self->in_flight.reset();
            if (self->ended)
                return; // abandoned: drop whatever the connect produced
            if (ep)
                return self->abandon();
            self->connected = std::move(r.second);
            self->feed(sv::connect_done{r.first});
        });
}

// Config and callbacks of the next session. Its callbacks report to the machine only while it
// is the latest session.
std::pair<session_config, session_callbacks> client::impl::session_setup(std::size_t idx) {
    session_config sc = config.session;
    sc.metrics = config.metrics;
    if (sc.metrics)
        sc.metrics_labels = endpoint_labels[idx];
    sc.session_id = id;
    // Messages accepted while connecting join the buffer and are handed over in order, so the
    // first one handed is this one.
    sc.first_seq = outbox.first_seq();
    sc.resume = nullptr;
    const std::uint64_t generation = ++session_generation;
    const auto report = [weak = weak_from_this(), generation](sv::input in) {
        if (auto self = weak.lock(); self && self->session_generation == generation)
            self->feed(std::move(in));
    };
    session_callbacks cb;
    cb.on_state_change = [report](peer_state from, peer_state to, unsigned missed) {
        report(sv::session_state_changed{from, to, missed});
    };
    cb.on_rtt = [report](duration rtt, const rtt_estimator& est) {
        report(sv::session_rtt{rtt, est.srtt()});
    };
    cb.on_verdict = [report](const verdict& v) { report(sv::session_verdict{v}); };
    cb.on_ack = [weak = weak_from_this()](std::uint64_t seq) {
        if (auto self = weak.lock())
            self->on_ack(seq);
    };
    return {sc, cb};
}

void client::impl::start_session() {
    session = std::move(connected);
    feed_session = true;
    for (auto& m : outbox.messages())
        hand_to_session(m);
    // The session stores these handlers; through the anchor they hold it as strongly as a
    // plain capture would, yet drop_at_shutdown can still cut the cycle session -> handler ->
    // session when the context is destroyed with the session running.
    auto anchor = std::make_shared<std::shared_ptr<detail::supervised_session>>(session);
    std::erase_if(session_anchors, [](const auto& w) { return w.expired(); });
    session_anchors.push_back(anchor);
    session->run([self = shared_from_this(), anchor](error_code ec) {
        if (auto s = *anchor)
            self->on_session_end(s, ec);
    });
    forward_messages(anchor);
}

void client::impl::on_session_end(const std::shared_ptr<detail::supervised_session>& s,
                                  error_code reason) {
    if (s != session)
        return;
    session.reset();
    feed_session = false;
    awaiting_drain = false;
    outbox.unhand_all();
    feed(sv::session_ended{reason});
}

// Keeps one receive outstanding on the session and forwards messages to the application.
void client::impl::forward_messages(session_anchor anchor) {
    const auto s = *anchor;
    if (!s)
        return;
    s->receive([weak = weak_from_this(), anchor](error_code ec, received_message m) {
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
        self->forward_messages(anchor);
    });
}

} // namespace heartbeat
