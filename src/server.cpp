#include <heartbeat/server.hpp>

#include <heartbeat/detail/peer_address.hpp>
#include <heartbeat/detail/peer_registry.hpp>
#include <heartbeat/resume_store.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace heartbeat {

namespace asio = boost::asio;

template <class Protocol>
struct basic_server<Protocol>::state : std::enable_shared_from_this<state> {
    using socket_type = typename Protocol::socket;
    using session_type = basic_session<socket_type>;

    struct peer {
        peer_info info;
        std::unique_ptr<session_type> session;
    };

    state(asio::io_context& io, const endpoint_type& endpoint, server_config cfg,
          server_callbacks cbs)
        : ioc(io), strand(asio::make_strand(io)), acceptor(strand), config(std::move(cfg)),
          callbacks(std::move(cbs)) {
        if (!config.session.resume) // resumable by default: reconnecting clients lose nothing
            config.session.resume = std::make_shared<resume_store>();
        acceptor.open(endpoint.protocol());
        if constexpr (std::is_same_v<Protocol, asio::ip::tcp>)
            acceptor.set_option(asio::socket_base::reuse_address(true));
        acceptor.bind(endpoint);
        acceptor.listen(asio::socket_base::max_listen_connections);
    }

    asio::io_context& ioc;
    asio::strand<asio::io_context::executor_type> strand;
    typename Protocol::acceptor acceptor;
    server_config config;
    server_callbacks callbacks;

    detail::peer_registry<peer> registry;

    asio::awaitable<boost::system::error_code> accept_loop() {
        auto self = this->shared_from_this();
        asio::steady_timer backoff(strand);
        for (;;) {
            auto [ec, socket] = co_await acceptor.async_accept(asio::make_strand(ioc),
                                                               asio::as_tuple(asio::use_awaitable));
            if (registry.closed())
                co_return asio::error::operation_aborted;
            if (ec == asio::error::operation_aborted)
                co_return ec;
            if (ec) {
                // Out of descriptors or a connection reset before accept: wait and go on.
                backoff.expires_after(std::chrono::milliseconds(50));
                co_await backoff.async_wait(asio::as_tuple(asio::use_awaitable));
                continue;
            }
            admit(std::move(socket));
        }
    }

    void admit(socket_type socket) {
        boost::system::error_code ec;
        const auto remote = socket.remote_endpoint(ec);
        auto p = std::make_shared<peer>();
        if (registry.full(config.max_sessions) ||
            !registry.accept(*p, ec ? std::string("unknown") : detail::peer_address(remote))) {
            socket.close(ec);
            return;
        }
        auto self = this->shared_from_this();
        const auto scb = detail::peer_session_callbacks(callbacks, std::weak_ptr<state>(self),
                                                        std::weak_ptr<peer>(p));
        p->session = std::make_unique<session_type>(std::move(socket), config.session, scb);
        // Listed only once its session exists: stats() and send_to() run on other threads. A
        // session of a server that closed meanwhile never runs: its destructor closes the socket.
        if (!registry.insert(p))
            return;
        if (callbacks.on_peer_connected)
            asio::post(p->session->get_executor(),
                       [self, p] { self->callbacks.on_peer_connected(p->info); });
        p->session->async_run([self, p](boost::system::error_code reason) {
            self->registry.remove(p->info.id, reason);
            if (self->callbacks.on_peer_closed)
                self->callbacks.on_peer_closed(p->info, reason);
        });
        asio::co_spawn(p->session->get_executor(), receive_loop(self, p), asio::detached);
    }

    // Always drains received messages: an unread inbox would eventually pause the reader.
    static asio::awaitable<void> receive_loop(std::shared_ptr<state> self,
                                              std::shared_ptr<peer> p) {
        for (;;) {
            auto [ec, message] =
                co_await p->session->async_receive_message(asio::as_tuple(asio::use_awaitable));
            if (ec)
                co_return;
            if (self->callbacks.on_message) {
                self->callbacks.on_message(p->info, std::move(message));
            } else if (self->config.echo) {
                auto [send_ec] = co_await p->session->async_send(
                    std::move(message.payload), asio::as_tuple(asio::use_awaitable));
                if (send_ec)
                    co_return;
            }
        }
    }
};

template <class Protocol>
basic_server<Protocol>::basic_server(asio::io_context& ioc, const endpoint_type& endpoint,
                                     server_config config, server_callbacks callbacks)
    : state_(std::make_shared<state>(ioc, endpoint, std::move(config), std::move(callbacks))) {}

template <class Protocol>
basic_server<Protocol>::~basic_server() {
    close();
    // close() only posts the acceptor's close, and each session keeps itself (and the state)
    // alive until its completion runs. On an io_context that is stopped (a crashed or torn-down
    // server) none of that ever runs: the listener would stay bound and every peer socket open
    // (peers never see EOF) even after the io_context is destroyed. Nothing runs on a stopped
    // io_context, so close them here, synchronously.
    if (state_->ioc.stopped()) {
        boost::system::error_code ignored;
        state_->acceptor.close(ignored);
        for (auto& p : state_->registry.peers())
            p->session->stream().close(ignored);
    }
}

template <class Protocol>
typename basic_server<Protocol>::endpoint_type basic_server<Protocol>::local_endpoint() const {
    return state_->acceptor.local_endpoint();
}

template <class Protocol>
void basic_server<Protocol>::start_run(
    asio::any_completion_handler<void(boost::system::error_code)> handler) {
    auto s = state_;
    asio::co_spawn(
        s->strand, s->accept_loop(),
        [s, h = std::move(handler)](std::exception_ptr ep, boost::system::error_code ec) mutable {
            if (ep)
                ec = asio::error::fault;
            std::move(h)(ec);
        });
}

template <class Protocol>
bool basic_server<Protocol>::send_to(std::uint64_t peer_id, std::string message) {
    auto p = state_->registry.find(peer_id);
    if (!p)
        return false;
    p->session->async_send(std::move(message), [p](boost::system::error_code) {});
    return true;
}

template <class Protocol>
void basic_server<Protocol>::close() {
    auto s = state_;
    auto peers = s->registry.close();
    if (!peers)
        return;
    asio::post(s->strand, [s] {
        boost::system::error_code ignored;
        s->acceptor.close(ignored);
    });
    for (auto& p : *peers)
        p->session->close();
}

template <class Protocol>
server_stats basic_server<Protocol>::stats() const {
    return state_->registry.stats([](const typename state::peer& p) { return p.session->stats(); });
}

template class basic_server<asio::ip::tcp>;
template class basic_server<asio::local::stream_protocol>;

} // namespace heartbeat
