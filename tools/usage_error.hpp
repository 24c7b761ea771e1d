#pragma once
// A bad command-line argument. main() prints it as one line naming the argument and exits 2, so
// scripts can tell "you called me wrong" from a runtime failure (exit 1).
#include <cstdio>
#include <stdexcept>
#include <string>
#include <string_view>

namespace heartbeat::cli {

class usage_error : public std::runtime_error {
public:
    usage_error(const std::string& argument, const std::string& problem)
        : std::runtime_error(argument + ": " + problem) {}
};

// What the user typed, in single quotes, with control characters escaped so that an error about
// it still fits on one line.
inline std::string quote_arg(std::string_view text) {
    std::string out = "'";
    for (const char c : text) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(c));
            out += buf;
        } else {
            out += c;
        }
    }
    return out + "'";
}

} // namespace heartbeat::cli
