#pragma once
// server_core<Adapter>: the one server under every protocol's server. It owns the listener and
// the accept loop (which pauses after an accept error such as EMFILE instead of spinning),
// admits peers up to max_sessions (further ones are dropped at once and counted as rejected),
// keeps the registry of live peers with their ids and addresses, aggregates their stats,
// forwards each peer's session callbacks to the server's callbacks, drains every peer's
// messages (to on_message, or echoed), and ends it all on close(), on the cancellation of
// async_run through its slot, or synchronously at destruction on a stopped io_context.
//
// What differs per protocol comes from the Adapter (see native_server_adapter.hpp and
// websocket_server_adapter.hpp):
//   protocol_type        the listener's protocol: asio::ip::tcp or asio::local::stream_protocol
//   config_type          the server's config, with `max_sessions` and `echo` members
//   session_ptr          std::variant<std::unique_ptr<Session>...>: the sessions a peer may run
//   config()             the config it was built from
//   on_accepted(core, socket, address)
//                        turns an accepted socket into a running session, at once or after the
//                        protocol's handshake, by calling core->admit(stream, address)
//   make_session(stream, session_callbacks, peer address) -> std::unique_ptr<Session>
//   async_receive(session, token)           the next message: void(error_code, Message)
//   to_received_message(Message)            what on_message receives
//   async_echo(session, Message, token)     sends a message back as it came
//   close_transport(session)                closes the connection under it, synchronously
//
// Threading: the accept loop runs on the core's strand, each session on its own strand (the
// accepted socket's); every public member may be called from any thread.
// Lifetime: held by a shared_ptr (the server's, and each running peer's), so a peer's completion
// always finds it alive.
#include <heartbeat/detail/completion.hpp>
#include <heartbeat/detail/context_shutdown_service.hpp>
#include <heartbeat/detail/operation_cache.hpp>
#include <heartbeat/server/peer_address.hpp>
#include <heartbeat/server/peer_registry.hpp>
#include <heartbeat/server/peer_session_callbacks.hpp>
#include <heartbeat/server/server_types.hpp>

#include <boost/asio/any_completion_handler.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/associated_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <chrono>
#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

namespace heartbeat {

template <class Adapter>
class server_core : public std::enable_shared_from_this<server_core<Adapter>> {
public:
    using protocol_type = typename Adapter::protocol_type;
    using endpoint_type = typename protocol_type::endpoint;
    using socket_type = typename protocol_type::socket;
    using run_handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;

    struct peer {
        peer_info info;
        typename Adapter::session_ptr session;

        // f(session) on whichever kind of session this peer runs.
        template <class F>
        decltype(auto) with_session(F&& f) {
            return std::visit([&](auto& s) -> decltype(auto) { return f(*s); }, session);
        }
    };

    // Binds and listens immediately; throws boost::system::system_error if it cannot.
    server_core(boost::asio::io_context& ioc, const endpoint_type& endpoint, Adapter adapter,
                server_callbacks callbacks)
        : ioc_(ioc), strand_(boost::asio::make_strand(ioc)), acceptor_(strand_),
          adapter_(std::move(adapter)), callbacks_(std::move(callbacks)) {
        acceptor_.open(endpoint.protocol());
        if constexpr (std::is_same_v<protocol_type, boost::asio::ip::tcp>)
            acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
        acceptor_.bind(endpoint);
        acceptor_.listen(boost::asio::socket_base::max_listen_connections);
    }

    server_core(const server_core&) = delete;
    server_core& operator=(const server_core&) = delete;

    // --- For the server that owns the core -------------------------------------------------

    endpoint_type local_endpoint() const { return acceptor_.local_endpoint(); }

    // async_run's initiation: accepts until close(), or until the handler's cancellation slot
    // is emitted (any type), which does what close() does. Completes on the handler's
    // associated executor, never inline, with operation_aborted after either.
    void start_run(run_handler handler) {
        shutdown_registration_.add(ioc_, this->weak_from_this(),
                                   [](server_core& self) { self.abandon(); });
        auto slot = boost::asio::get_associated_cancellation_slot(handler);
        if (slot.is_connected())
            // Weak: the slot may outlive the server when the application keeps its signal.
            slot.assign([weak = this->weak_from_this()](boost::asio::cancellation_type) {
                if (auto self = weak.lock())
                    self->close();
            });
        boost::asio::co_spawn(strand_, accept_loop(this->shared_from_this()),
                              [h = std::move(handler), strand = strand_](
                                  std::exception_ptr ep, boost::system::error_code ec) mutable {
                                  complete_run(std::move(h), strand,
                                               ep ? detail::error_of(ep) : ec);
                              });
    }

    // Queues a message to one peer, with the protocol's send options (a WebSocket message
    // kind); false if that peer is gone.
    template <class... SendOptions>
    bool send_to(std::uint64_t peer_id, std::string message, SendOptions... options) {
        auto p = registry_.find(peer_id);
        if (!p)
            return false;
        p->with_session([&](auto& session) {
            session.async_send(std::move(message), options..., [p](boost::system::error_code) {});
        });
        return true;
    }

    // Stops accepting and closes every session (each ends as its protocol's close() says).
    void close() {
        auto peers = registry_.close();
        if (!peers)
            return;
        boost::asio::post(strand_, [self = this->shared_from_this()] {
            boost::system::error_code ignored;
            self->acceptor_.close(ignored);
        });
        // On each session's own executor, holding its peer: close() may be called from any
        // thread, and a session whose peer leaves meanwhile is destroyed by its completion on
        // that executor; session::close() itself only holds `this`.
        for (auto& p : *peers)
            p->with_session([&p](auto& session) {
                boost::asio::dispatch(session.get_executor(), [p] {
                    // abandon() may have dropped it meanwhile (a stopped io_context).
                    std::visit(
                        [](auto& owned) {
                            if (owned)
                                owned->close();
                        },
                        p->session);
                });
            });
    }

    // close(), and the synchronous teardown its owner's destructor needs.
    void close_for_destruction() {
        close();
        // close() only posts the acceptor's close, and each session keeps itself (and the core)
        // alive until its completion runs. On an io_context that is stopped (a crashed or
        // torn-down server) none of that ever runs: the listener would stay bound and every peer
        // socket open (peers never see EOF) even after the io_context is destroyed. Nothing runs
        // on a stopped io_context, so close them here, synchronously.
        if (ioc_.stopped())
            abandon();
    }

    // Nothing will run on the io_context again (it is stopped, or being destroyed): close the
    // listener and every connection now, so peers see them end, and destroy the sessions.
    // Their pending completions hold the core and their peer from inside the session, a cycle
    // only running them would break; destroyed instead, as Asio destroys every pending handler
    // of an io_context that goes away.
    void abandon() {
        boost::system::error_code ignored;
        acceptor_.close(ignored);
        for (auto& p : registry_.take_all(boost::asio::error::operation_aborted)) {
            p->with_session([](auto& session) { Adapter::close_transport(session); });
            std::visit([](auto& owned) { owned.reset(); }, p->session);
        }
    }

    server_stats stats() const {
        return registry_.stats(
            [](peer& p) { return p.with_session([](auto& session) { return session.stats(); }); });
    }

    std::optional<session_stats> peer_stats(std::uint64_t peer_id) const {
        auto p = registry_.find(peer_id);
        if (!p)
            return std::nullopt;
        return p->with_session([](auto& session) { return session.stats(); });
    }

    // --- For the adapter --------------------------------------------------------------------

    const Adapter& adapter() const noexcept { return adapter_; }
    const server_callbacks& callbacks() const noexcept { return callbacks_; }
    bool closed() const { return registry_.closed(); }

    // True (and counted as rejected) when max_sessions peers run already: for a protocol that
    // answers a refusal (a WebSocket upgrade gets 503) before admit() would drop the peer.
    bool full() { return registry_.full(adapter_.config().max_sessions); }

    // Runs a session on `stream`, a connection ready for it (a socket, a WebSocket after its
    // upgrade), unless max_sessions peers run already or the server closed: then dropping the
    // stream closes the connection. Call on the stream's strand or the core's.
    template <class Stream>
    void admit(Stream stream, std::string address) {
        auto p = std::make_shared<peer>();
        if (registry_.admit(*p, std::move(address), adapter_.config().max_sessions) !=
            detail::admission::admitted)
            return;
        auto self = this->shared_from_this();
        auto owned = adapter_.make_session(
            std::move(stream),
            detail::peer_session_callbacks(callbacks_, std::weak_ptr<server_core>(self),
                                           std::weak_ptr<peer>(p)),
            p->info.address);
        auto& session = *owned;
        p->session = std::move(owned);
        // Listed only once its session exists: stats() and send_to() use it from any thread. A
        // session of a server that closed meanwhile never runs: its destructor closes the
        // connection.
        if (!registry_.insert(p))
            return;
        start_peer(std::move(self), std::move(p), session);
    }

private:
    boost::asio::awaitable<boost::system::error_code>
    accept_loop(std::shared_ptr<server_core> self) {
        boost::asio::steady_timer backoff(strand_);
        for (;;) {
            auto [ec, socket] = co_await acceptor_.async_accept(
                boost::asio::make_strand(ioc_), boost::asio::as_tuple(boost::asio::use_awaitable));
            if (registry_.closed())
                co_return boost::asio::error::operation_aborted;
            if (ec == boost::asio::error::operation_aborted)
                co_return ec;
            if (ec) {
                // Out of descriptors or a connection reset before accept: wait and go on.
                backoff.expires_after(std::chrono::milliseconds(50));
                co_await backoff.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
                continue;
            }
            socket_type accepted(std::move(socket)); // its strand, behind any_io_executor
            auto address = address_of(accepted);
            adapter_.on_accepted(self, std::move(accepted), std::move(address));
        }
    }

    // The slot is cleared where the handler runs (its associated executor, else the core's
    // strand): that is where the application emits its signal, so the two never race.
    static void
    complete_run(run_handler handler,
                 const boost::asio::strand<boost::asio::io_context::executor_type>& strand,
                 boost::system::error_code reason) {
        const auto ex = boost::asio::get_associated_executor(handler, strand);
        boost::asio::dispatch(ex, [h = std::move(handler), reason]() mutable {
            auto slot = boost::asio::get_associated_cancellation_slot(h);
            if (slot.is_connected())
                slot.clear();
            std::move(h)(reason);
        });
    }

    static std::string address_of(const socket_type& socket) {
        boost::system::error_code ec;
        const auto remote = socket.remote_endpoint(ec);
        return ec ? std::string("unknown") : detail::peer_address(remote);
    }

    template <class Session>
    void start_peer(std::shared_ptr<server_core> self, std::shared_ptr<peer> p, Session& session) {
        if (callbacks_.on_peer_connected)
            // On the peer's strand, ahead of anything its session reports: at once when admit()
            // runs there (after a handshake), else queued before the session starts.
            boost::asio::dispatch(session.get_executor(),
                                  [self, p] { self->callbacks_.on_peer_connected(p->info); });
        session.async_run([self, p](boost::system::error_code reason) {
            self->registry_.remove(p->info.id, reason);
            if (self->callbacks_.on_peer_closed)
                self->callbacks_.on_peer_closed(p->info, reason);
        });
        receive_next(std::move(self), std::move(p), session);
    }

    // Always drains received messages: an unread inbox would eventually pause the reader.
    // A chain of completions rather than a coroutine, whose frames cost about 1 KB per peer for
    // as long as it is connected. `session` is p's; holding `p` keeps it alive.
    template <class Session>
    static void receive_next(std::shared_ptr<server_core> self, std::shared_ptr<peer> p,
                             Session& session) {
        Adapter::async_receive(
            session,
            detail::with_operation_cache([self = std::move(self), p = std::move(p), &session](
                                             boost::system::error_code ec, auto message) mutable {
                if (ec)
                    return;
                if (self->callbacks_.on_message) {
                    // The next receive first: it completes through the scheduler, after this
                    // message's on_message, and the chain goes on if on_message throws (the
                    // exception leaves io_context::run(), as any handler's does).
                    auto& on_message = self->callbacks_.on_message;
                    const peer_info& info = p->info;
                    receive_next(self, p, session);
                    on_message(info, Adapter::to_received_message(std::move(message)));
                } else if (self->adapter_.config().echo) {
                    Adapter::async_echo(session, std::move(message),
                                        detail::with_operation_cache(
                                            [self = std::move(self), p = std::move(p),
                                             &session](boost::system::error_code send_ec) mutable {
                                                if (!send_ec)
                                                    receive_next(std::move(self), std::move(p),
                                                                 session);
                                            }));
                } else {
                    receive_next(std::move(self), std::move(p), session);
                }
            }));
    }

    boost::asio::io_context& ioc_;
    detail::context_shutdown_registration shutdown_registration_;
    boost::asio::strand<boost::asio::io_context::executor_type> strand_;
    typename protocol_type::acceptor acceptor_;
    Adapter adapter_;
    server_callbacks callbacks_;
    detail::peer_registry<peer> registry_;
};

} // namespace heartbeat
