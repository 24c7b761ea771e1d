#include <heartbeat/protocol/resp/resp_value.hpp>

#include <heartbeat/core/error.hpp>

#include <charconv>
#include <cstddef>
#include <limits>
#include <span>

namespace heartbeat::resp {

namespace {

// Builds the DOM of bytes resp_scanner has already accepted as exactly one reply, so it only
// has to read, not validate: every line has its CRLF, every length its bytes, every number
// its digits. Recursion is bounded by the scanner's depth limit.
class value_builder {
public:
    explicit value_builder(std::string_view reply) noexcept : reply_(reply) {}

    value read_value() {
        std::vector<value> attributes;
        while (reply_[position_] == '|') {
            ++position_;
            read_elements(2 * read_count(read_line()), attributes);
        }
        value v = read_unannotated_value();
        v.attributes = std::move(attributes);
        return v;
    }

private:
    value read_unannotated_value() {
        value v;
        const char type = reply_[position_++];
        const std::string_view line = read_line();
        switch (type) {
        case '+':
            v.kind = reply_kind::simple_string;
            v.string = line;
            break;
        case '-':
            v.kind = reply_kind::simple_error;
            v.string = line;
            break;
        case ':':
            v.kind = reply_kind::integer;
            v.integer = to_int64(line);
            break;
        case '_':
            v.kind = reply_kind::null;
            break;
        case '#':
            v.kind = reply_kind::boolean;
            v.boolean = line == "t";
            break;
        case ',':
            v.kind = reply_kind::double_number;
            v.string = line;
            v.number = to_double(line);
            break;
        case '(':
            v.kind = reply_kind::big_number;
            v.string = line;
            break;
        case '$':
        case '!':
        case '=':
            read_bulk(type, line, v);
            break;
        default:
            read_aggregate(type, line, v);
            break;
        }
        return v;
    }

    void read_bulk(char type, std::string_view length_line, value& v) {
        if (length_line == "-1") {
            v.kind = reply_kind::null;
            return;
        }
        const std::string_view payload = reply_.substr(position_, read_count(length_line));
        position_ += payload.size() + 2;
        if (type == '=') {
            v.kind = reply_kind::verbatim_string;
            v.format = payload.substr(0, 3);
            v.string = payload.substr(4);
        } else {
            v.kind = type == '$' ? reply_kind::bulk_string : reply_kind::bulk_error;
            v.string = payload;
        }
    }

    void read_aggregate(char type, std::string_view count_line, value& v) {
        if (count_line == "-1") {
            v.kind = reply_kind::null;
            return;
        }
        const std::size_t count = read_count(count_line);
        v.kind = type == '*'   ? reply_kind::array
                 : type == '%' ? reply_kind::map
                 : type == '~' ? reply_kind::set
                               : reply_kind::push;
        read_elements(type == '%' ? 2 * count : count, v.elements);
    }

    // The scanner checked that the reply holds them all, so reserving is bounded by its size.
    void read_elements(std::size_t count, std::vector<value>& out) {
        out.reserve(out.size() + count);
        for (std::size_t i = 0; i < count; ++i) {
            out.push_back(read_value());
        }
    }

    std::string_view read_line() noexcept {
        const std::size_t cr = reply_.find('\r', position_);
        const std::string_view line = reply_.substr(position_, cr - position_);
        position_ = cr + 2;
        return line;
    }

    static std::size_t read_count(std::string_view digits) noexcept {
        std::size_t count = 0;
        std::from_chars(digits.data(), digits.data() + digits.size(), count);
        return count;
    }

    static std::string_view without_plus(std::string_view number) noexcept {
        return !number.empty() && number.front() == '+' ? number.substr(1) : number;
    }

    static std::int64_t to_int64(std::string_view line) noexcept {
        line = without_plus(line);
        std::int64_t integer = 0;
        std::from_chars(line.data(), line.data() + line.size(), integer);
        return integer;
    }

    static double to_double(std::string_view line) noexcept {
        line = without_plus(line);
        double number = 0;
        std::from_chars(line.data(), line.data() + line.size(), number);
        return number;
    }

    std::string_view reply_;
    std::size_t position_ = 0;
};

void append_quoted(std::string& out, std::string_view text) {
    static constexpr char hex[] = "0123456789abcdef";
    out += '"';
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        switch (c) {
        case '\r':
            out += "\\r";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        default:
            if (byte < 0x20 || byte >= 0x7f) {
                out += "\\x";
                out += hex[byte >> 4];
                out += hex[byte & 0xf];
            } else {
                out += c;
            }
        }
    }
    out += '"';
}

void append_rendering(std::string& out, const value& v);

void append_elements(std::string& out, const std::vector<value>& elements, bool as_map) {
    out += as_map ? '{' : '[';
    for (std::size_t i = 0; i < elements.size(); ++i) {
        if (i > 0) {
            out += (as_map && i % 2 == 1) ? ": " : ", ";
        }
        append_rendering(out, elements[i]);
    }
    out += as_map ? '}' : ']';
}

void append_rendering(std::string& out, const value& v) {
    if (!v.attributes.empty()) {
        out += "(attributes ";
        append_elements(out, v.attributes, true);
        out += ") ";
    }
    switch (v.kind) {
    case reply_kind::simple_string:
        out += v.string;
        break;
    case reply_kind::simple_error:
    case reply_kind::bulk_error:
        out += "(error) ";
        out += v.string;
        break;
    case reply_kind::integer:
        out += "(integer) " + std::to_string(v.integer);
        break;
    case reply_kind::bulk_string:
    case reply_kind::verbatim_string:
        append_quoted(out, v.string);
        break;
    case reply_kind::null:
        out += "(nil)";
        break;
    case reply_kind::boolean:
        out += v.boolean ? "(true)" : "(false)";
        break;
    case reply_kind::double_number: {
        out += "(double) ";
        if (!v.string.empty()) {
            out += v.string;
        } else {
            std::array<char, 32> text{};
            out.append(text.data(),
                       std::to_chars(text.data(), text.data() + text.size(), v.number).ptr);
        }
        break;
    }
    case reply_kind::big_number:
        out += "(big number) " + v.string;
        break;
    case reply_kind::array:
        append_elements(out, v.elements, false);
        break;
    case reply_kind::map:
        append_elements(out, v.elements, true);
        break;
    case reply_kind::set:
        out += "(set) ";
        append_elements(out, v.elements, false);
        break;
    case reply_kind::push:
        out += "(push) ";
        append_elements(out, v.elements, false);
        break;
    }
}

} // namespace

std::optional<value> parse_value(std::string_view one_reply, boost::system::error_code& ec) {
    // No size bound of its own: the bytes are all here, so nothing can make it wait.
    resp_scanner scanner(std::numeric_limits<std::size_t>::max());
    const scan_result scanned = scanner.scan(
        std::span(reinterpret_cast<const std::uint8_t*>(one_reply.data()), one_reply.size()));
    if (scanned.st != scan_result::status::complete || scanned.consumed != one_reply.size()) {
        ec = error::malformed_frame;
        return std::nullopt;
    }
    ec.clear();
    return value_builder(one_reply).read_value();
}

std::string to_string(const value& v) {
    std::string out;
    append_rendering(out, v);
    return out;
}

} // namespace heartbeat::resp
