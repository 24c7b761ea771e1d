#include <heartbeat/protocol/resp/resp_scanner.hpp>

#include <algorithm>
#include <cassert>
#include <limits>
#include <string_view>

namespace heartbeat::resp {

namespace {

using line_bytes = std::span<const std::uint8_t>;

// Length, count, integer, boolean and null lines are short by nature (an int64 is at most 20
// characters); refusing longer ones catches garbage without waiting for max_reply_size bytes.
constexpr std::size_t max_short_line = 32;
// Every RESP value takes at least 3 bytes ("_\r\n", "+\r\n"), so each announced element
// reserves that much of the size budget.
constexpr std::uint64_t min_value_size = 3;
// Keeps every sum of offsets, lengths and reservations far from overflow.
constexpr std::size_t largest_max_reply_size = std::size_t{1} << 60;

bool is_digit(std::uint8_t c) noexcept {
    return c >= '0' && c <= '9';
}

bool equals(line_bytes line, std::string_view text) noexcept {
    return std::equal(line.begin(), line.end(), text.begin(), text.end());
}

bool all_digits(line_bytes digits) noexcept {
    return !digits.empty() && std::all_of(digits.begin(), digits.end(), is_digit);
}

bool is_one_of(std::uint8_t type, std::string_view types) noexcept {
    return types.find(static_cast<char>(type)) != std::string_view::npos;
}

bool has_short_line(std::uint8_t type) noexcept {
    return is_one_of(type, ":_#$!=*%~>|");
}

bool is_known_type(std::uint8_t type) noexcept {
    return is_one_of(type, ":_#$!=*%~>|+-,(");
}

// An unsigned decimal, saturated at `ceiling` (anything that large is refused by the size
// bound anyway). False for anything but digits.
bool parse_length(line_bytes digits, std::uint64_t ceiling, std::uint64_t& value) noexcept {
    if (!all_digits(digits)) {
        return false;
    }
    value = 0;
    for (std::uint8_t c : digits) {
        value = std::min<std::uint64_t>(value * 10 + (c - '0'), ceiling);
    }
    return true;
}

// [+-]digits within the range of std::int64_t.
bool is_int64(line_bytes line) noexcept {
    bool negative = false;
    if (!line.empty() && (line[0] == '-' || line[0] == '+')) {
        negative = line[0] == '-';
        line = line.subspan(1);
    }
    if (!all_digits(line)) {
        return false;
    }
    const std::uint64_t limit =
        std::uint64_t{std::numeric_limits<std::int64_t>::max()} + (negative ? 1 : 0);
    std::uint64_t value = 0;
    for (std::uint8_t c : line) {
        const std::uint64_t digit = c - '0';
        if (value > (limit - digit) / 10) {
            return false;
        }
        value = value * 10 + digit;
    }
    return true;
}

// [+-]digits[.digits][(e|E)[+-]digits], or inf, -inf, nan.
bool is_double(line_bytes line) noexcept {
    if (equals(line, "inf") || equals(line, "-inf") || equals(line, "nan")) {
        return true;
    }
    std::size_t i = 0;
    const auto skip_sign = [&] {
        if (i < line.size() && (line[i] == '+' || line[i] == '-')) {
            ++i;
        }
    };
    const auto skip_digits = [&] {
        const std::size_t first = i;
        while (i < line.size() && is_digit(line[i])) {
            ++i;
        }
        return i > first;
    };
    skip_sign();
    if (!skip_digits()) {
        return false;
    }
    if (i < line.size() && line[i] == '.') {
        ++i;
        if (!skip_digits()) {
            return false;
        }
    }
    if (i < line.size() && (line[i] == 'e' || line[i] == 'E')) {
        ++i;
        skip_sign();
        if (!skip_digits()) {
            return false;
        }
    }
    return i == line.size();
}

bool is_big_number(line_bytes line) noexcept {
    if (!line.empty() && (line[0] == '-' || line[0] == '+')) {
        line = line.subspan(1);
    }
    return all_digits(line);
}

} // namespace

const char* kind_name(reply_kind kind) noexcept {
    static constexpr const char* names[] = {
        "simple_string",   "simple_error", "integer", "bulk_string",   "bulk_error",
        "verbatim_string", "null",         "boolean", "double_number", "big_number",
        "array",           "map",          "set",     "push",
    };
    const auto index = static_cast<std::size_t>(kind);
    return index < std::size(names) ? names[index] : "unknown";
}

resp_scanner::resp_scanner(std::size_t max_reply_size) noexcept
    : max_reply_size_(std::min(max_reply_size, largest_max_reply_size)) {}

void resp_scanner::reset() noexcept {
    const std::size_t max_reply_size = max_reply_size_;
    *this = resp_scanner(max_reply_size);
}

scan_result resp_scanner::scan(std::span<const std::uint8_t> unparsed) noexcept {
    assert(unparsed.size() >= search_from_ && "scan: bytes given before were dropped");
    for (;;) {
        progress step = progress::failed;
        switch (phase_) {
        case phase::type_byte:
            step = read_type_byte(unparsed);
            break;
        case phase::line:
            step = read_line(unparsed);
            break;
        case phase::bulk_payload:
            step = read_bulk_payload(unparsed);
            break;
        }
        switch (step) {
        case progress::advanced:
            continue;
        case progress::need_more:
            return scan_result{scan_result::status::need_more, 0, {}, {}};
        case progress::complete: {
            const scan_result result{scan_result::status::complete, position_, kind_, {}};
            reset();
            return result;
        }
        case progress::failed: {
            const scan_result result{scan_result::status::error, 0, {}, make_error_code(failure_)};
            reset();
            return result;
        }
        }
    }
}

resp_scanner::progress resp_scanner::read_type_byte(std::span<const std::uint8_t> bytes) noexcept {
    if (position_ >= bytes.size()) {
        return progress::need_more;
    }
    type_ = bytes[position_];
    if (!is_known_type(type_)) {
        return fail(error::malformed_frame);
    }
    // An attribute is not an element of its parent: the value it annotates, next, is.
    if (type_ != '|' && depth_ > 0) {
        --open_[depth_ - 1].remaining;
        --pending_elements_;
    }
    line_start_ = position_ + 1;
    search_from_ = line_start_;
    // The latest the CR may come: the reply then ends 2 bytes later, and the elements still
    // announced need their minimum size after that.
    const std::int64_t size_limit = room_after(0) - 2;
    if (size_limit < static_cast<std::int64_t>(line_start_)) {
        return fail(error::frame_too_large);
    }
    line_limit_ = static_cast<std::size_t>(size_limit);
    line_limit_error_ = error::frame_too_large;
    if (has_short_line(type_) && line_start_ + max_short_line < line_limit_) {
        line_limit_ = line_start_ + max_short_line;
        line_limit_error_ = error::malformed_frame;
    }
    phase_ = phase::line;
    return progress::advanced;
}

resp_scanner::progress resp_scanner::read_line(std::span<const std::uint8_t> bytes) noexcept {
    const std::size_t end = std::min(bytes.size(), line_limit_ + 1);
    std::size_t cr = search_from_;
    for (; cr < end; ++cr) {
        if (bytes[cr] == '\r') {
            break;
        }
        if (bytes[cr] == '\n') {
            return fail(error::malformed_frame); // LF without CR
        }
    }
    if (cr == end) {
        if (end == line_limit_ + 1) {
            return fail(line_limit_error_);
        }
        search_from_ = end;
        return progress::need_more;
    }
    if (cr + 1 >= bytes.size()) {
        search_from_ = cr; // look at this CR again once its LF may be there
        return progress::need_more;
    }
    if (bytes[cr + 1] != '\n') {
        return fail(error::malformed_frame);
    }
    position_ = cr + 2;
    search_from_ = position_;
    return on_line(bytes.subspan(line_start_, cr - line_start_));
}

resp_scanner::progress resp_scanner::on_line(std::span<const std::uint8_t> line) noexcept {
    switch (type_) {
    case '+':
        record_kind(reply_kind::simple_string);
        return finish_value();
    case '-':
        record_kind(reply_kind::simple_error);
        return finish_value();
    case ':':
        record_kind(reply_kind::integer);
        return is_int64(line) ? finish_value() : fail(error::malformed_frame);
    case '_':
        record_kind(reply_kind::null);
        return line.empty() ? finish_value() : fail(error::malformed_frame);
    case '#':
        record_kind(reply_kind::boolean);
        return equals(line, "t") || equals(line, "f") ? finish_value()
                                                      : fail(error::malformed_frame);
    case ',':
        record_kind(reply_kind::double_number);
        return is_double(line) ? finish_value() : fail(error::malformed_frame);
    case '(':
        record_kind(reply_kind::big_number);
        return is_big_number(line) ? finish_value() : fail(error::malformed_frame);
    case '$':
    case '!':
    case '=':
        return on_bulk_header(line);
    default:
        return on_aggregate_header(line);
    }
}

resp_scanner::progress resp_scanner::on_bulk_header(std::span<const std::uint8_t> line) noexcept {
    if (type_ == '$' && equals(line, "-1")) {
        record_kind(reply_kind::null);
        return finish_value();
    }
    record_kind(type_ == '$'   ? reply_kind::bulk_string
                : type_ == '!' ? reply_kind::bulk_error
                               : reply_kind::verbatim_string);
    std::uint64_t length = 0;
    if (!parse_length(line, max_reply_size_ + 1, length)) {
        return fail(error::malformed_frame); // includes "?", a streamed string
    }
    if (type_ == '=' && length < 4) {
        return fail(error::malformed_frame); // no room for the "txt:" format prefix
    }
    const std::int64_t room = room_after(position_);
    if (room < 2 || length > static_cast<std::uint64_t>(room - 2)) {
        return fail(error::frame_too_large);
    }
    bulk_end_ = position_ + static_cast<std::size_t>(length);
    verbatim_format_checked_ = type_ != '=';
    phase_ = phase::bulk_payload;
    return progress::advanced;
}

resp_scanner::progress
resp_scanner::on_aggregate_header(std::span<const std::uint8_t> line) noexcept {
    if (type_ == '*' && equals(line, "-1")) {
        record_kind(reply_kind::null);
        return finish_value();
    }
    const bool attribute = type_ == '|';
    if (!attribute) {
        record_kind(type_ == '*'   ? reply_kind::array
                    : type_ == '%' ? reply_kind::map
                    : type_ == '~' ? reply_kind::set
                                   : reply_kind::push);
    }
    std::uint64_t count = 0;
    if (!parse_length(line, max_reply_size_ + 1, count)) {
        return fail(error::malformed_frame); // includes "?", a streamed aggregate
    }
    if (depth_ == max_depth) {
        return fail(error::malformed_frame);
    }
    const std::uint64_t elements = (type_ == '%' || attribute) ? count * 2 : count;
    const std::int64_t room = room_after(position_);
    if (room < 0 || elements > static_cast<std::uint64_t>(room) / min_value_size) {
        return fail(error::frame_too_large);
    }
    phase_ = phase::type_byte;
    if (elements == 0) {
        return attribute ? progress::advanced : finish_value();
    }
    open_[depth_++] = open_aggregate{elements, attribute};
    pending_elements_ += elements;
    return progress::advanced;
}

resp_scanner::progress
resp_scanner::read_bulk_payload(std::span<const std::uint8_t> bytes) noexcept {
    const std::size_t payload_start = position_;
    if (!verbatim_format_checked_ && bytes.size() > payload_start + 3) {
        if (bytes[payload_start + 3] != ':') {
            return fail(error::malformed_frame);
        }
        verbatim_format_checked_ = true;
    }
    // Refuse a wrong terminator as soon as its first byte is there.
    if (bytes.size() > bulk_end_ && bytes[bulk_end_] != '\r') {
        return fail(error::malformed_frame);
    }
    if (bytes.size() < bulk_end_ + 2) {
        return progress::need_more;
    }
    if (bytes[bulk_end_ + 1] != '\n') {
        return fail(error::malformed_frame);
    }
    position_ = bulk_end_ + 2;
    search_from_ = position_;
    return finish_value();
}

resp_scanner::progress resp_scanner::finish_value() noexcept {
    phase_ = phase::type_byte;
    while (depth_ > 0) {
        const open_aggregate& innermost = open_[depth_ - 1];
        if (innermost.remaining > 0) {
            return progress::advanced;
        }
        --depth_;
        if (innermost.attribute) {
            return progress::advanced; // the annotated value comes next
        }
    }
    return progress::complete;
}

resp_scanner::progress resp_scanner::fail(error reason) noexcept {
    failure_ = reason;
    return progress::failed;
}

void resp_scanner::record_kind(reply_kind kind) noexcept {
    // Only the top-level value names the reply; attributes never reach here.
    if (depth_ == 0) {
        kind_ = kind;
    }
}

std::int64_t resp_scanner::room_after(std::size_t offset) const noexcept {
    return static_cast<std::int64_t>(max_reply_size_) - static_cast<std::int64_t>(offset) -
           static_cast<std::int64_t>(pending_elements_ * min_value_size);
}

} // namespace heartbeat::resp
