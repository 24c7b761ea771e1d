#include <heartbeat/endpoint.hpp>

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
    const auto scheme_end = text.find("://");
    if (scheme_end != std::string_view::npos) {
        const std::string scheme = lower(text.substr(0, scheme_end));
        if (scheme == "ws")
            e.scheme = endpoint_scheme::ws;
        else if (scheme == "wss")
            e.scheme = endpoint_scheme::wss;
        else
            return fail("unknown scheme '" + std::string(text.substr(0, scheme_end)) +
                        "' (expected ws://, wss:// or HOST:PORT)");
        const std::string_view rest = text.substr(scheme_end + 3);
        const auto authority_end = rest.find_first_of("/?#");
        authority = rest.substr(0, authority_end);
        std::string_view target = authority_end == std::string_view::npos
                                      ? std::string_view{}
                                      : rest.substr(authority_end);
        if (target.find('#') != std::string_view::npos)
            return fail("a WebSocket URI has no fragment ('#...')");
        for (const char c : target)
            if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f)
                return fail("the path may not contain spaces or control characters "
                            "(percent-encode them)");
        if (authority.find('@') != std::string_view::npos)
            return fail("user info ('user@') is not supported in a WebSocket URI");
        e.target = target.starts_with('/') ? std::string(target) : "/" + std::string(target);
    }
    const bool native = e.scheme == endpoint_scheme::native;
    const auto hp = split_authority(authority, native, reason);
    if (!hp)
        return fail(std::move(reason));
    unsigned port = e.scheme == endpoint_scheme::wss ? 443 : 80;
    if ((native || hp->has_port) && !parse_port(hp->port, port))
        return fail("port must be a number in [0, 65535]");
    e.host = std::string(hp->host);
    e.port = std::to_string(port);
    if (native)
        e.port = std::string(hp->port); // as written (already checked to be a number)
    resolve_literal(e, port);
    return e;
}

} // namespace heartbeat
