#pragma once
// How the native heartbeat protocol plugs into server_core (see there for the adapter's
// members): an accepted socket becomes a basic_session at once (its HELLO exchange is the
// session's own), messages are received_message and are echoed as they came.
#include <heartbeat/protocol/native/native_session.hpp>
#include <heartbeat/server/peer_session_config.hpp>
#include <heartbeat/server/server_config.hpp>
#include <heartbeat/session/resume_store.hpp>

#include <boost/system/error_code.hpp>

#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace heartbeat {

template <class Protocol>
class native_server_adapter {
public:
    using protocol_type = Protocol;
    using config_type = server_config;
    using socket_type = typename Protocol::socket;
    using session_type = basic_session<socket_type>;
    using session_ptr = std::variant<std::unique_ptr<session_type>>;

    // Sessions are resumable by default: a client reconnecting to this server loses nothing.
    explicit native_server_adapter(server_config config) : config_(std::move(config)) {
        if (!config_.session.resume)
            config_.session.resume = std::make_shared<resume_store>();
        detail::adopt_server_observability(config_.session, config_.metrics, config_.log);
        shared_session_config_ = std::make_shared<const session_config>(config_.session);
    }

    const server_config& config() const noexcept { return config_; }

    template <class Core>
    void on_accepted(const std::shared_ptr<Core>& core, socket_type socket,
                     std::string address) const {
        core->admit(std::move(socket), std::move(address));
    }

    std::unique_ptr<session_type> make_session(socket_type socket, session_callbacks callbacks,
                                               std::string_view address) const {
        if (!detail::observed(config_.session))
            return std::make_unique<session_type>(std::move(socket), shared_session_config_,
                                                  std::move(callbacks));
        return std::make_unique<session_type>(
            std::move(socket), detail::labelled_for_peer(config_.session, "native", address),
            std::move(callbacks));
    }

    template <class CompletionToken>
    static auto async_receive(session_type& session, CompletionToken&& token) {
        return session.async_receive_message(std::forward<CompletionToken>(token));
    }

    static received_message to_received_message(received_message message) { return message; }

    template <class CompletionToken>
    static auto async_echo(session_type& session, received_message message,
                           CompletionToken&& token) {
        return session.async_send(std::move(message.payload), std::forward<CompletionToken>(token));
    }

    static void close_transport(session_type& session) {
        boost::system::error_code ignored;
        session.stream().close(ignored);
    }

private:
    server_config config_;
    // What every unobserved session runs with: one copy for all (observed ones are labelled
    // with their peer's address, so each has its own).
    std::shared_ptr<const session_config> shared_session_config_;
};

} // namespace heartbeat
