#include "duration_arg.hpp"

#include "usage_error.hpp"

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>

namespace heartbeat::cli {
namespace {

[[noreturn]] void reject(std::string_view text, const char* why = nullptr) {
    std::string msg = "invalid duration " + quote_arg(text) + " (";
    msg += why ? why : "use ms, s or m suffix, e.g. 250ms, 1.5s, 2m";
    msg += ")";
    throw std::invalid_argument(msg);
}

bool is_digit(char c) {
    return c >= '0' && c <= '9';
}

} // namespace

duration parse_duration(std::string_view text) {
    std::size_t i = 0;
    std::uint64_t whole = 0;
    bool any_digit = false;
    constexpr auto max_whole = std::numeric_limits<std::uint64_t>::max() / 10;
    for (; i < text.size() && is_digit(text[i]); ++i) {
        if (whole > max_whole)
            reject(text, "too large");
        whole = whole * 10 + static_cast<unsigned>(text[i] - '0');
        any_digit = true;
    }
    // Digits past the 18th are below a nanosecond even in minutes; dropping them keeps the
    // arithmetic in 64 bits.
    std::uint64_t frac = 0, frac_scale = 1;
    if (i < text.size() && text[i] == '.') {
        ++i;
        bool frac_digit = false;
        for (; i < text.size() && is_digit(text[i]); ++i) {
            if (frac_scale < 1'000'000'000'000'000'000ull) {
                frac = frac * 10 + static_cast<unsigned>(text[i] - '0');
                frac_scale *= 10;
            }
            frac_digit = true;
        }
        if (!frac_digit)
            reject(text);
        any_digit = true;
    }
    if (!any_digit)
        reject(text);

    const std::string_view unit = text.substr(i);
    std::uint64_t unit_ns = 0;
    if (unit == "ms")
        unit_ns = 1'000'000ull;
    else if (unit == "s")
        unit_ns = 1'000'000'000ull;
    else if (unit == "m")
        unit_ns = 60'000'000'000ull;
    else
        reject(text);

    constexpr auto max_ns = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
    if (whole > max_ns / unit_ns)
        reject(text, "too large");
    // Exact integer arithmetic whenever the fraction has no sub-nanosecond digits; only those are
    // rounded.
    std::uint64_t frac_ns = 0;
    if (frac_scale <= unit_ns && unit_ns % frac_scale == 0)
        frac_ns = frac * (unit_ns / frac_scale);
    else
        frac_ns = static_cast<std::uint64_t>(static_cast<long double>(frac) * unit_ns / frac_scale +
                                             0.5L);
    const std::uint64_t total = whole * unit_ns;
    if (total > max_ns - frac_ns)
        reject(text, "too large");
    return std::chrono::duration_cast<duration>(
        std::chrono::nanoseconds(static_cast<std::int64_t>(total + frac_ns)));
}

} // namespace heartbeat::cli
