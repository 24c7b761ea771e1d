// parse_endpoint on arbitrary text, as typed on a command line or read from a config file:
// it either names why it refuses (a non-empty reason) or returns an endpoint with a host and a
// port in [0, 65535]; its label, which events and logs show, hides the password yet parses back
// to the same endpoint (with "***" for the password).
#include "support/fuzz_check.hpp"

#include <heartbeat/client/endpoint.hpp>

#include <charconv>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hb = heartbeat;

namespace {

bool valid_port(const std::string& port) {
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), value);
    return ec == std::errc() && end == port.data() + port.size() && !port.empty() && value <= 65535;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    std::string why;
    const auto e = hb::parse_endpoint(text, &why);
    if (!e) {
        HEARTBEAT_FUZZ_CHECK(!why.empty());
        return 0;
    }
    HEARTBEAT_FUZZ_CHECK(!e->host.empty());
    HEARTBEAT_FUZZ_CHECK(valid_port(e->port));
    HEARTBEAT_FUZZ_CHECK(!e->websocket() || e->target.starts_with('/'));
    HEARTBEAT_FUZZ_CHECK(e->websocket() || e->target.empty());
    (void)hb::to_string(e->scheme);
    (void)e->host_header();
    for (const auto& [key, value] : e->options)
        HEARTBEAT_FUZZ_CHECK(e->option(key).has_value());

    const bool masked = !e->password.empty();
    HEARTBEAT_FUZZ_CHECK(masked || e->label == text);
    if (masked)
        HEARTBEAT_FUZZ_CHECK(e->label.find(":***@") != std::string::npos);

    std::string why_again;
    const auto again = hb::parse_endpoint(e->label, &why_again);
    HEARTBEAT_FUZZ_CHECK(again.has_value());
    HEARTBEAT_FUZZ_CHECK(again->host == e->host && again->port == e->port &&
                         again->scheme == e->scheme && again->target == e->target &&
                         again->username == e->username && again->database == e->database &&
                         again->options == e->options && again->label == e->label);
    HEARTBEAT_FUZZ_CHECK(again->password == (masked ? "***" : e->password));
    HEARTBEAT_FUZZ_CHECK(again->resolved == e->resolved);
    return 0;
}
