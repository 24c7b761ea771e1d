#pragma once
// Byte helpers and readable failure messages shared by the MQTT codec tests.
#include <heartbeat/protocol/mqtt/mqtt_packet.hpp>

#include <cstdint>
#include <initializer_list>
#include <ostream>
#include <span>
#include <string_view>
#include <vector>

namespace heartbeat::mqtt {

// ADL finds these because they live in the scanned types' namespace.
inline void PrintTo(packet_scan::status s, std::ostream* os) {
    switch (s) {
    case packet_scan::status::complete:
        *os << "complete";
        return;
    case packet_scan::status::need_more:
        *os << "need_more";
        return;
    case packet_scan::status::error:
        *os << "error";
        return;
    }
}
inline void PrintTo(packet_type t, std::ostream* os) {
    *os << to_string(t);
}

namespace test {

using bytes = std::vector<std::uint8_t>;

// Encoders return std::string; compare them with hand-written byte lists.
inline bytes to_bytes(std::string_view s) {
    return bytes(s.begin(), s.end());
}

inline std::span<const std::uint8_t> as_span(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

inline bytes concat(std::initializer_list<bytes> parts) {
    bytes out;
    for (const auto& part : parts) {
        out.insert(out.end(), part.begin(), part.end());
    }
    return out;
}

inline std::span<const std::uint8_t> prefix(const bytes& b, std::size_t n) {
    return {b.data(), n};
}

} // namespace test
} // namespace heartbeat::mqtt
