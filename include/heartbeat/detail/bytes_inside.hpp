#pragma once
#include <string>

namespace heartbeat::detail {

// True when the bytes of `s` live inside the string object (the short-string optimisation):
// then they move whenever the string does, so a writer that must keep them in place while a
// queue grows copies them out first.
inline bool bytes_inside(const std::string& s) noexcept {
    const auto* object = reinterpret_cast<const char*>(&s);
    return s.data() >= object && s.data() < object + sizeof(std::string);
}

} // namespace heartbeat::detail
