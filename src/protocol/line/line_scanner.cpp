#include <heartbeat/protocol/line/line_scanner.hpp>

#include <heartbeat/core/error.hpp>

#include <algorithm>
#include <cstring>
#include <limits>

namespace heartbeat::line {
namespace {

std::size_t saturating_add(std::size_t a, std::size_t b) noexcept {
    return a > std::numeric_limits<std::size_t>::max() - b ? std::numeric_limits<std::size_t>::max()
                                                           : a + b;
}

} // namespace

const char* terminator(line_ending ending) noexcept {
    return ending == line_ending::crlf ? "\r\n" : "\n";
}

line_scanner::line_scanner(line_ending ending, std::size_t max_line_length) noexcept
    : ending_(ending), max_line_length_(max_line_length) {}

line_scan line_scanner::scan(std::span<const std::uint8_t> unparsed) noexcept {
    const bool crlf = ending_ == line_ending::crlf;
    const auto* data = unparsed.data();
    // The '\n' of an acceptable line sits at most at offset max_line_length (right after the
    // line), or one further in crlf mode (after the '\r'): nothing beyond needs searching.
    const std::size_t last_newline_offset = saturating_add(max_line_length_, crlf ? 1 : 0);
    const std::size_t window = std::min(unparsed.size(), saturating_add(last_newline_offset, 1));
    const std::size_t from = std::min(searched_, window);

    const void* newline = from == window ? nullptr : std::memchr(data + from, '\n', window - from);
    if (newline != nullptr) {
        searched_ = 0;
        const auto at = static_cast<std::size_t>(static_cast<const std::uint8_t*>(newline) - data);
        std::size_t length = at;
        if (crlf && at > 0 && data[at - 1] == '\r') {
            --length;
        }
        if (length > max_line_length_) {
            return {.st = line_scan::status::error, .ec = error::frame_too_large};
        }
        return {.st = line_scan::status::complete,
                .consumed = at + 1,
                .line = {reinterpret_cast<const char*>(data), length}};
    }

    searched_ = window;
    if (unparsed.size() > max_line_length_) {
        // In crlf mode the byte just past the limit may be the terminator's '\r': only the byte
        // after it can tell.
        const bool may_be_terminator =
            crlf && unparsed.size() - 1 == max_line_length_ && data[max_line_length_] == '\r';
        if (!may_be_terminator) {
            searched_ = 0;
            return {.st = line_scan::status::error, .ec = error::frame_too_large};
        }
    }
    return {.st = line_scan::status::need_more};
}

bool reply_matches(std::string_view line, std::string_view expected, match_kind kind) noexcept {
    return kind == match_kind::exact ? line == expected : line.starts_with(expected);
}

boost::system::error_code validate_outgoing_line(std::string_view line,
                                                 std::size_t max_line_length) noexcept {
    if (line.size() > max_line_length || line.find_first_of("\r\n") != std::string_view::npos) {
        return error::invalid_message;
    }
    return {};
}

} // namespace heartbeat::line
