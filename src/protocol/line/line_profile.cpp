#include <heartbeat/protocol/line/line_profile.hpp>

#include <cstring>

namespace heartbeat {

std::optional<config_error> validate(const line_config& c) {
    if (auto e = validate(static_cast<const session_options&>(c), "line_config"))
        return e;
    if (c.max_line_length < 1)
        return config_error{"line_config.max_line_length", "must be >= 1"};
    if (c.ping.empty() || line::validate_outgoing_line(c.ping, c.max_line_length))
        return config_error{"line_config.ping", "must be one non-empty line"};
    if (c.pong.empty() || c.pong.find_first_of("\r\n") != std::string::npos)
        return config_error{"line_config.pong", "must be one non-empty line"};
    if (line::validate_outgoing_line(c.goodbye, c.max_line_length))
        return config_error{"line_config.goodbye", "must be one line"};
    return std::nullopt;
}

std::span<const std::uint8_t> line_profile::suffix(bool fin) const noexcept {
    if (!fin)
        return {};
    const char* t = line::terminator(config_.ending);
    return {reinterpret_cast<const std::uint8_t*>(t), std::strlen(t)};
}

void line_profile::append_line(std::vector<std::uint8_t>& out, std::string_view text) const {
    out.insert(out.end(), text.begin(), text.end());
    const char* t = line::terminator(config_.ending);
    out.insert(out.end(), t, t + std::strlen(t));
}

} // namespace heartbeat
