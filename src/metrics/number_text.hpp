#pragma once
// Numbers as the renderers write them: integers plainly, doubles in the shortest fixed
// notation that reads back to the same value (0.0001, not 1e-04).
#include <charconv>
#include <cstdint>
#include <string>

namespace heartbeat::metrics::detail {

inline void append_number(std::string& out, std::uint64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

inline void append_number(std::string& out, std::int64_t v) {
    char buf[24];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
}

inline void append_number(std::string& out, double v) {
    char buf[400];
    auto r = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
    out.append(buf, r.ptr);
}

} // namespace heartbeat::metrics::detail
