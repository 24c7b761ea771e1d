#include <heartbeat/client/client_config.hpp>

#include <string>

namespace heartbeat {

std::optional<config_error> validate(const client_config& c) {
    // A nested struct names its fields from its type ("session_config.heartbeat.interval");
    // here the root is our member instead: "client_config.session.heartbeat.interval".
    const auto nested = [](const char* member, const config_error& e) {
        return std::optional<config_error>(
            config_error{std::string("client_config.") + member + e.field.substr(e.field.find('.')),
                         e.reason, e.value});
    };
    if (auto e = validate(c.session))
        return nested("session", *e);
    if (auto e = validate(c.backoff))
        return nested("backoff", *e);
    if (auto e = validate(c.endpoints))
        return nested("endpoints", *e);
    const auto fail = [](const char* field, const char* reason) {
        return std::optional<config_error>(config_error{field, reason});
    };
    if (c.resolve_timeout <= duration::zero())
        return fail("client_config.resolve_timeout", "must be > 0");
    if (c.connect_timeout <= duration::zero())
        return fail("client_config.connect_timeout", "must be > 0");
    if (c.max_unacked_messages < 1)
        return fail("client_config.max_unacked_messages", "must be >= 1");
    if (c.max_unacked_bytes < 1)
        return fail("client_config.max_unacked_bytes", "must be >= 1");
    if (c.probe_interval <= duration::zero())
        return fail("client_config.probe_interval", "must be > 0");
    if (c.probe_timeout <= duration::zero())
        return fail("client_config.probe_timeout", "must be > 0");
    if (c.failback_drain_timeout < duration::zero())
        return fail("client_config.failback_drain_timeout", "must be >= 0");
    if (c.websocket.fragment_size < 1 || c.websocket.fragment_size > (1u << 30))
        return fail("client_config.websocket.fragment_size", "must be in [1, 1 GiB]");
    if (c.websocket.user_agent.find_first_of("\r\n") != std::string::npos)
        return fail("client_config.websocket.user_agent", "must not contain CR or LF");
    return std::nullopt;
}

} // namespace heartbeat
