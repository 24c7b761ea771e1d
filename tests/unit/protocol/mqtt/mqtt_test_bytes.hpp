#pragma once
// Byte helpers shared by the MQTT codec tests.
#include <cstdint>
#include <initializer_list>
#include <span>
#include <string_view>
#include <vector>

namespace heartbeat::mqtt {

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
