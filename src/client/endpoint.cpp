#include <heartbeat/client/endpoint.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>

namespace heartbeat {

namespace {

struct parse_failure {
    std::string reason;
};

struct host_and_port {
    std::string_view host;
    std::string_view port; // empty when the text had no ":PORT"
    bool has_port = false;
};

// "HOST[:PORT]" or "[V6][:PORT]"; `port_required` for the native form.
std::optional<host_and_port> split_authority(std::string_view text, bool port_required,
                                             std::string& why) {
    host_and_port out;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        const bool tail_ok = close != std::string_view::npos &&
                             (close + 1 == text.size() ? !port_required : text[close + 1] == ':');
        if (!tail_ok || (port_required && close + 1 >= text.size())) {
            why = port_required ? "expected [IPV6]:PORT" : "expected [IPV6] or [IPV6]:PORT";
            return std::nullopt;
        }
        out.host = text.substr(1, close - 1);
        out.has_port = close + 1 < text.size();
        if (out.has_port)
            out.port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos) {
            if (port_required) {
                why = "expected HOST:PORT";
                return std::nullopt;
            }
            out.host = text;
        } else {
            out.host = text.substr(0, colon);
            out.port = text.substr(colon + 1);
            out.has_port = true;
        }
        if (out.host.find(':') != std::string_view::npos) {
            why = port_required ? "IPv6 addresses must be written [ADDR]:PORT"
                                : "IPv6 addresses must be written in brackets, e.g. ws://[::1]:80/";
            return std::nullopt;
        }
    }
    if (out.host.empty()) {
        why = "missing host";
        return std::nullopt;
    }
    return out;
}

bool parse_port(std::string_view port, unsigned& value) {
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    return !port.empty() && ec == std::errc() && ptr == port.data() + port.size() && value <= 65535;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return out;
}

struct scheme_info {
    std::string_view name;
    endpoint_scheme scheme;
    unsigned default_port; // 0: the port is required
};

constexpr scheme_info schemes[] = {
    {"ws", endpoint_scheme::ws, 80},         {"wss", endpoint_scheme::wss, 443},
    {"redis", endpoint_scheme::redis, 6379}, {"rediss", endpoint_scheme::rediss, 6379},
    {"mqtt", endpoint_scheme::mqtt, 1883},   {"mqtts", endpoint_scheme::mqtts, 8883},
    {"line", endpoint_scheme::line, 0},      {"lines", endpoint_scheme::lines, 0},
};

bool is_redis(endpoint_scheme s) {
    return s == endpoint_scheme::redis || s == endpoint_scheme::rediss;
}
bool is_mqtt(endpoint_scheme s) {
    return s == endpoint_scheme::mqtt || s == endpoint_scheme::mqtts;
}
bool is_line(endpoint_scheme s) {
    return s == endpoint_scheme::line || s == endpoint_scheme::lines;
}

// %XX sequences decoded; nullopt when one is malformed.
std::optional<std::string> percent_decode(std::string_view in) {
    std::string out;
    out.reserve(in.size());
    for (std::size_t i = 0; i < in.size(); ++i) {
        if (in[i] != '%') {
            out += in[i];
            continue;
        }
        unsigned value = 0;
        if (i + 2 >= in.size())
            return std::nullopt;
        const auto [ptr, ec] = std::from_chars(in.data() + i + 1, in.data() + i + 3, value, 16);
        if (ec != std::errc() || ptr != in.data() + i + 3)
            return std::nullopt;
        out += static_cast<char>(value);
        i += 2;
    }
    return out;
}

bool parse_unsigned(std::string_view text, unsigned long max, unsigned long& value) {
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return !text.empty() && ec == std::errc() && ptr == text.data() + text.size() && value <= max;
}

// Checks one option of a redis/mqtt/line URI; the reason when it is unknown or its value bad.
std::optional<std::string> check_option(endpoint_scheme scheme, const std::string& key,
                                        const std::string& value) {
    unsigned long n = 0;
    if (is_redis(scheme)) {
        if (key == "protocol")
            return value == "2" || value == "3"
                       ? std::nullopt
                       : std::optional<std::string>("protocol must be 2 or 3");
        if (key == "name")
            return value.empty() ? std::optional<std::string>("name must not be empty")
                                 : std::nullopt;
    } else if (is_mqtt(scheme)) {
        if (key == "client_id")
            return std::nullopt;
        if (key == "version")
            return value == "3.1.1" || value == "311" || value == "4" || value == "5"
                       ? std::nullopt
                       : std::optional<std::string>("version must be 3.1.1 or 5");
        if (key == "keep_alive")
            return parse_unsigned(value, 65535, n)
                       ? std::nullopt
                       : std::optional<std::string>("keep_alive must be seconds in [0, 65535]");
    } else if (is_line(scheme)) {
        if (key == "ping" || key == "pong")
            return value.empty() || value.find_first_of("\r\n") != std::string::npos
                       ? std::optional<std::string>(key + " must be one non-empty line")
                       : std::nullopt;
        if (key == "goodbye")
            return value.find_first_of("\r\n") != std::string::npos
                       ? std::optional<std::string>("goodbye must be one line")
                       : std::nullopt;
        if (key == "match")
            return value == "exact" || value == "prefix"
                       ? std::nullopt
                       : std::optional<std::string>("match must be exact or prefix");
        if (key == "eol")
            return value == "crlf" || value == "lf"
                       ? std::nullopt
                       : std::optional<std::string>("eol must be crlf or lf");
        if (key == "max_line")
            return parse_unsigned(value, 1ul << 30, n) && n >= 1
                       ? std::nullopt
                       : std::optional<std::string>("max_line must be a length in [1, 1 GiB]");
    }
    return "unknown option '" + key + "' for " + std::string(to_string(scheme)) + "://";
}

void resolve_literal(endpoint& e, unsigned port) {
    boost::system::error_code ec;
    const auto addr = boost::asio::ip::make_address(e.host, ec);
    if (!ec)
        e.resolved = boost::asio::ip::tcp::endpoint(addr, static_cast<unsigned short>(port));
}

} // namespace

const char* to_string(endpoint_scheme s) noexcept {
    switch (s) {
    case endpoint_scheme::native:
        return "native";
    case endpoint_scheme::ws:
        return "ws";
    case endpoint_scheme::wss:
        return "wss";
    case endpoint_scheme::redis:
        return "redis";
    case endpoint_scheme::rediss:
        return "rediss";
    case endpoint_scheme::mqtt:
        return "mqtt";
    case endpoint_scheme::mqtts:
        return "mqtts";
    case endpoint_scheme::line:
        return "line";
    case endpoint_scheme::lines:
        return "lines";
    }
    return "unknown";
}

std::string endpoint::host_header() const {
    std::string out = host.find(':') != std::string::npos ? "[" + host + "]" : host;
    const bool default_port = (scheme == endpoint_scheme::ws && port == "80") ||
                              (scheme == endpoint_scheme::wss && port == "443");
    if (!default_port)
        out += ":" + port;
    return out;
}

endpoint endpoint::from(const boost::asio::ip::tcp::endpoint& ep) {
    endpoint e;
    e.host = ep.address().to_string();
    e.port = std::to_string(ep.port());
    e.resolved = ep;
    e.label = ep.address().is_v6() ? "[" + e.host + "]:" + e.port : e.host + ":" + e.port;
    return e;
}

std::optional<std::string> endpoint::option(std::string_view key) const {
    std::optional<std::string> out;
    for (const auto& [k, v] : options)
        if (k == key)
            out = v;
    return out;
}

std::optional<endpoint> parse_endpoint(std::string_view text, std::string* why) {
    std::string reason;
    const auto fail = [&](std::string r) -> std::optional<endpoint> {
        if (why)
            *why = std::move(r);
        return std::nullopt;
    };
    endpoint e;
    e.label = std::string(text);
    std::string_view authority = text;
    unsigned port = 0;
    const auto scheme_end = text.find("://");
    if (scheme_end != std::string_view::npos) {
        const std::string scheme = lower(text.substr(0, scheme_end));
        const auto known = std::find_if(std::begin(schemes), std::end(schemes),
                                        [&](const scheme_info& s) { return s.name == scheme; });
        if (known == std::end(schemes))
            return fail("unknown scheme '" + std::string(text.substr(0, scheme_end)) +
                        "' (expected ws://, wss://, redis://, rediss://, mqtt://, mqtts://, "
                        "line://, lines:// or HOST:PORT)");
        e.scheme = known->scheme;
        port = known->default_port;
        const std::string_view rest = text.substr(scheme_end + 3);
        const auto authority_end = rest.find_first_of("/?#");
        authority = rest.substr(0, authority_end);
        std::string_view tail = authority_end == std::string_view::npos
                                    ? std::string_view{}
                                    : rest.substr(authority_end);
        if (tail.find('#') != std::string_view::npos)
            return fail(std::string(e.websocket() ? "a WebSocket" : "an endpoint") +
                        " URI has no fragment ('#...')");
        for (const char c : tail)
            if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
                return fail("the path may not contain spaces or control characters "
                            "(percent-encode them)");
        if (e.websocket()) {
            if (authority.find('@') != std::string_view::npos)
                return fail("user info ('user@') is not supported in a WebSocket URI");
            e.target = tail.starts_with('/') ? std::string(tail) : "/" + std::string(tail);
        } else {
            if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
                if (is_line(e.scheme))
                    return fail("user info ('user@') is not supported in a line:// URI");
                const std::string_view info = authority.substr(0, at);
                authority = authority.substr(at + 1);
                const auto colon = info.find(':');
                const auto user = percent_decode(info.substr(0, colon));
                const auto pass = colon == std::string_view::npos
                                      ? std::optional<std::string>(std::string())
                                      : percent_decode(info.substr(colon + 1));
                if (!user || !pass)
                    return fail("malformed percent-encoding in the user info");
                if (is_redis(e.scheme) && (colon == std::string_view::npos || pass->empty()))
                    return fail("Redis user info is [USER]:PASSWORD@");
                e.username = *user;
                e.password = *pass;
                if (!e.password.empty()) // never show a password in events and logs
                    e.label = std::string(text.substr(0, scheme_end + 3)) +
                              std::string(info.substr(0, colon)) + ":***@" +
                              std::string(rest.substr(at + 1));
            }
            const auto query_start = tail.find('?');
            const std::string_view path = tail.substr(0, query_start);
            if (is_redis(e.scheme) && path.size() > 1) {
                unsigned long db = 0;
                if (!parse_unsigned(path.substr(1), 1u << 20, db))
                    return fail("the path of a Redis URI is the database number, e.g. /3");
                e.database = static_cast<unsigned>(db);
            } else if (path.size() > 1) {
                return fail(std::string(to_string(e.scheme)) + ":// URIs have no path");
            }
            if (query_start != std::string_view::npos) {
                std::string_view query = tail.substr(query_start + 1);
                while (!query.empty()) {
                    const auto amp = query.find('&');
                    const std::string_view pair = query.substr(0, amp);
                    query =
                        amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
                    if (pair.empty())
                        continue;
                    const auto eq = pair.find('=');
                    const auto key = percent_decode(pair.substr(0, eq));
                    const auto value = eq == std::string_view::npos
                                           ? std::optional<std::string>(std::string())
                                           : percent_decode(pair.substr(eq + 1));
                    if (!key || !value)
                        return fail("malformed percent-encoding in the query");
                    if (auto bad = check_option(e.scheme, *key, *value))
                        return fail(std::move(*bad));
                    e.options.emplace_back(*key, *value);
                }
            }
        }
    }
    const bool port_required = e.scheme == endpoint_scheme::native || port == 0;
    const auto hp = split_authority(authority, port_required, reason);
    if (!hp)
        return fail(std::move(reason));
    if ((port_required || hp->has_port) && !parse_port(hp->port, port))
        return fail("port must be a number in [0, 65535]");
    e.host = std::string(hp->host);
    e.port = std::to_string(port);
    if (e.scheme == endpoint_scheme::native)
        e.port = std::string(hp->port); // as written (already checked to be a number)
    resolve_literal(e, port);
    return e;
}

} // namespace heartbeat
