#include "session_options.hpp"

#include "duration_arg.hpp"
#include "usage_error.hpp"

#include <charconv>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string_view>

namespace heartbeat::cli {
namespace {

template <class Parse>
auto parse_flag(const char* flag, const std::string& text, Parse parse) {
    try {
        return parse(text);
    } catch (const std::invalid_argument& e) {
        throw usage_error(flag, e.what());
    }
}

// heartbeat::validate speaks in library fields; users typed flags.
const char* flag_of(const std::string& field) {
    static constexpr std::pair<std::string_view, const char*> table[] = {
        {"session_config.heartbeat.interval", "--interval"},
        {"session_config.heartbeat.pong_timeout", "--timeout"},
        {"session_config.heartbeat.max_missed", "--misses"},
        {"session_config.heartbeat.jitter", "--jitter"},
        {"session_config.min_peer_ping_interval", "--min-interval"},
    };
    for (const auto& [name, flag] : table)
        if (field == name)
            return flag;
    return nullptr;
}

} // namespace

unsigned parse_count(std::string_view text) {
    unsigned value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value);
    if (text.empty() || ec != std::errc() || ptr != end)
        throw std::invalid_argument("invalid count " + quote_arg(text) +
                                    " (use a whole number, e.g. 3)");
    return value;
}

double parse_fraction(std::string_view text) {
    double value = 0;
    const auto* end = text.data() + text.size();
    const auto [ptr, ec] = std::from_chars(text.data(), end, value, std::chars_format::fixed);
    if (text.empty() || ec != std::errc() || ptr != end || !std::isfinite(value))
        throw std::invalid_argument("invalid fraction " + quote_arg(text) +
                                    " (use a decimal number, e.g. 0.1)");
    return value;
}

session_config make_session_config(const heartbeat_flags& flags) {
    session_config c;
    c.heartbeat.interval = parse_flag("--interval", flags.interval, parse_duration);
    c.heartbeat.pong_timeout = parse_flag("--timeout", flags.timeout, parse_duration);
    c.heartbeat.max_missed = parse_flag("--misses", flags.misses, parse_count);
    c.heartbeat.jitter = parse_flag("--jitter", flags.jitter, parse_fraction);
    c.min_peer_ping_interval = parse_flag("--min-interval", flags.min_interval, parse_duration);
    if (auto e = validate(c)) {
        if (const char* flag = flag_of(e->field))
            throw usage_error(flag, e->reason + " (" + e->field + ")");
        throw usage_error(e->field, e->reason);
    }
    return c;
}

} // namespace heartbeat::cli
