#include <heartbeat/endpoint.hpp>

#include <charconv>

namespace heartbeat {

endpoint endpoint::from(const boost::asio::ip::tcp::endpoint& ep) {
    endpoint e;
    e.host = ep.address().to_string();
    e.port = std::to_string(ep.port());
    e.resolved = ep;
    e.label = ep.address().is_v6() ? "[" + e.host + "]:" + e.port : e.host + ":" + e.port;
    return e;
}

std::optional<endpoint> parse_endpoint(std::string_view text, std::string* why) {
    const auto fail = [&](const char* reason) -> std::optional<endpoint> {
        if (why)
            *why = reason;
        return std::nullopt;
    };
    std::string_view host, port;
    if (text.starts_with('[')) {
        const auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return fail("expected [IPV6]:PORT");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        const auto colon = text.rfind(':');
        if (colon == std::string_view::npos)
            return fail("expected HOST:PORT");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos)
            return fail("IPv6 addresses must be written [ADDR]:PORT");
    }
    if (host.empty())
        return fail("empty host");
    unsigned value = 0;
    const auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    if (port.empty() || ec != std::errc() || ptr != port.data() + port.size() || value > 65535)
        return fail("port must be a number in [0, 65535]");
    endpoint e;
    e.host = std::string(host);
    e.port = std::string(port);
    e.label = std::string(text);
    boost::system::error_code ec_addr;
    const auto addr = boost::asio::ip::make_address(e.host, ec_addr);
    if (!ec_addr)
        e.resolved = boost::asio::ip::tcp::endpoint(addr, static_cast<unsigned short>(value));
    return e;
}

} // namespace heartbeat
