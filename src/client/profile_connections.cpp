// The client supervisor's sessions for redis://, mqtt:// and line:// endpoints (and their TLS
// forms): the profile's config from the client's session config and the endpoint's options, the
// TLS handshake where the scheme asks for one, and one adapter for all three session types.
#include <heartbeat/client/supervised_session.hpp>
#include <heartbeat/core/error.hpp>
#include <heartbeat/detail/handshake_deadline.hpp>
#include <heartbeat/protocol/profile_sessions.hpp>

#include "connect_helpers.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>

namespace heartbeat::detail {

namespace asio = boost::asio;
using boost::system::error_code;

namespace {

unsigned long number_option(const endpoint& ep, std::string_view key, unsigned long fallback) {
    const auto text = ep.option(key);
    if (!text)
        return fallback;
    unsigned long value = fallback;
    std::from_chars(text->data(), text->data() + text->size(), value); // checked by the parser
    return value;
}

resp_config resp_config_for(const endpoint& ep, const session_config& base) {
    resp_config c;
    static_cast<session_options&>(c) = base;
    c.protocol = ep.option("protocol").value_or("3") == "2" ? 2 : 3;
    c.username = ep.username;
    c.password = ep.password;
    c.client_name = ep.option("name").value_or("");
    c.database = ep.database;
    return c;
}

mqtt_config mqtt_config_for(const endpoint& ep, const session_config& base) {
    mqtt_config c;
    static_cast<session_options&>(c) = base;
    c.version = ep.option("version").value_or("3.1.1") == "5" ? mqtt::protocol_version::v5
                                                              : mqtt::protocol_version::v311;
    c.client_id = ep.option("client_id").value_or("");
    if (!ep.username.empty())
        c.username = ep.username;
    if (!ep.password.empty())
        c.password = ep.password;
    c.keep_alive = std::chrono::seconds(number_option(ep, "keep_alive", 0));
    return c;
}

line_config line_config_for(const endpoint& ep, const session_config& base) {
    line_config c;
    static_cast<session_options&>(c) = base;
    c.ping = ep.option("ping").value_or(c.ping);
    c.pong = ep.option("pong").value_or(c.pong);
    c.match = ep.option("match").value_or("exact") == "prefix" ? line::match_kind::prefix
                                                               : line::match_kind::exact;
    c.ending =
        ep.option("eol").value_or("crlf") == "lf" ? line::line_ending::lf : line::line_ending::crlf;
    c.max_line_length = number_option(ep, "max_line", c.max_line_length);
    c.goodbye = ep.option("goodbye").value_or("");
    return c;
}

// A Redis, MQTT or line session for the supervisor. These protocols acknowledge nothing the
// supervisor could resume from: a message counts as delivered once written. Received messages
// (replies, packets, lines) are numbered per connection.
template <class Session>
class profile_adapter final : public supervised_session {
public:
    template <class Stream, class Config>
    profile_adapter(Stream stream, Config config, session_callbacks cb,
                    std::shared_ptr<asio::ssl::context> tls)
        : tls_(std::move(tls)), session_(std::move(stream), std::move(config), std::move(cb)) {}
    void run(std::function<void(error_code)> done) override { session_.async_run(std::move(done)); }
    void send(std::string m, std::function<void(error_code)> written) override {
        session_.async_send(std::move(m), std::move(written));
    }
    void receive(std::function<void(error_code, received_message)> h) override {
        session_.async_receive_message(
            [this, h = std::move(h)](error_code ec, typename Session::message_type m) {
                h(ec, received_message{ec ? 0 : next_seq_++, std::move(m.payload)});
            });
    }
    void close() override { session_.close(); }
    void cancel() override { session_.cancel(); }
    bool acknowledges() const noexcept override { return false; }

private:
    std::shared_ptr<asio::ssl::context> tls_; // outlives the stream that uses it
    Session session_;
    std::uint64_t next_seq_ = 1;
};

template <template <class> class SessionOf, class Config>
std::shared_ptr<supervised_session> make_session(asio::ip::tcp::socket socket, Config config,
                                                 session_callbacks cb) {
    return std::make_shared<profile_adapter<SessionOf<asio::ip::tcp::socket>>>(
        std::move(socket), std::move(config), std::move(cb), nullptr);
}

template <template <class> class SessionOf, class Config>
std::shared_ptr<supervised_session> make_session(tls_stream stream, Config config,
                                                 session_callbacks cb,
                                                 std::shared_ptr<asio::ssl::context> tls) {
    return std::make_shared<profile_adapter<SessionOf<tls_stream>>>(
        std::move(stream), std::move(config), std::move(cb), std::move(tls));
}

// The session of the endpoint's profile over `stream` (a socket or a TLS stream).
template <class Stream>
std::shared_ptr<supervised_session> session_for(Stream stream, const endpoint& ep,
                                                const session_config& config, session_callbacks cb,
                                                std::shared_ptr<asio::ssl::context> tls) {
    const auto make = [&]<template <class> class SessionOf>(auto profile_config) {
        if constexpr (std::is_same_v<Stream, tls_stream>)
            return make_session<SessionOf>(std::move(stream), std::move(profile_config),
                                           std::move(cb), std::move(tls));
        else
            return make_session<SessionOf>(std::move(stream), std::move(profile_config),
                                           std::move(cb));
    };
    switch (ep.scheme) {
    case endpoint_scheme::redis:
    case endpoint_scheme::rediss:
        return make.template operator()<resp_session>(resp_config_for(ep, config));
    case endpoint_scheme::mqtt:
    case endpoint_scheme::mqtts:
        return make.template operator()<mqtt_session>(mqtt_config_for(ep, config));
    default:
        return make.template operator()<line_session>(line_config_for(ep, config));
    }
}

} // namespace

asio::awaitable<connect_result>
connect_profile_session(asio::any_io_executor strand, asio::ip::tcp::socket socket,
                        const endpoint& ep, const session_config& config,
                        session_callbacks callbacks, const connect_options& options,
                        std::shared_ptr<connect_attempt> attempt) {
    if (!ep.tls())
        co_return connect_result{error_code{}, session_for(std::move(socket), ep, config,
                                                           std::move(callbacks), nullptr)};
    const auto& wo = options.websocket;
    if (!wo.tls_context)
        co_return connect_result{error_code(error::invalid_config), nullptr};
    handshake_deadline deadline(strand, config.handshake_timeout, socket);
    abort_hook_guard guard(attempt, [&deadline] { deadline.expire_now(); });
    tls_stream tls(std::move(socket), *wo.tls_context);
    deadline.track(tls.next_layer());
    if (const error_code setup = prepare_tls_client(tls, ep.host, wo.verify_certificate))
        co_return connect_result{setup, nullptr};
    auto [ec] = co_await tls.async_handshake(asio::ssl::stream_base::client,
                                             asio::as_tuple(asio::use_awaitable));
    if (ec || deadline.expired()) {
        if (aborted(attempt))
            ec = asio::error::operation_aborted;
        else if (deadline.expired())
            ec = error::handshake_timeout;
        co_return connect_result{ec, nullptr};
    }
    deadline.finish();
    co_return connect_result{error_code{}, session_for(std::move(tls), ep, config,
                                                       std::move(callbacks), wo.tls_context)};
}

} // namespace heartbeat::detail
