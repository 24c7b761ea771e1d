#include <heartbeat/protocol/resp/resp_command.hpp>

#include <heartbeat/core/error.hpp>

#include <algorithm>
#include <stdexcept>

namespace heartbeat::resp {

namespace {

std::size_t decimal_width(std::size_t n) noexcept {
    std::size_t width = 1;
    for (; n >= 10; n /= 10) {
        ++width;
    }
    return width;
}

void append_decimal(std::string& out, std::size_t n) {
    std::array<char, 20> digits{};
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), n).ptr;
    out.append(digits.data(), end);
}

// `argument_at(i)` gives the i-th argument's bytes; the output grows once.
template <class ArgumentAt>
void append_encoded(std::string& out, std::size_t count, ArgumentAt argument_at) {
    if (count == 0) {
        throw std::invalid_argument("resp::command: a command needs at least its name");
    }
    std::size_t size = 1 + decimal_width(count) + 2;
    for (std::size_t i = 0; i < count; ++i) {
        const std::size_t length = argument_at(i).size();
        size += 1 + decimal_width(length) + 2 + length + 2;
    }
    out.reserve(out.size() + size);
    out += '*';
    append_decimal(out, count);
    out += "\r\n";
    for (std::size_t i = 0; i < count; ++i) {
        const std::string_view bytes = argument_at(i);
        out += '$';
        append_decimal(out, bytes.size());
        out += "\r\n";
        out += bytes;
        out += "\r\n";
    }
}

// A strict reader over the bytes of one command; every read checks bounds.
class command_reader {
public:
    explicit command_reader(std::string_view bytes) noexcept : bytes_(bytes) {}

    // type byte, then an unsigned decimal of at least one digit, then CRLF.
    bool read_header(char type, std::size_t& value) noexcept {
        if (position_ >= bytes_.size() || bytes_[position_] != type) {
            return false;
        }
        ++position_;
        const std::size_t first_digit = position_;
        value = 0;
        for (; position_ < bytes_.size() && bytes_[position_] >= '0' && bytes_[position_] <= '9';
             ++position_) {
            // Any length above the bytes we hold is wrong anyway; saturating avoids overflow.
            value = std::min(value * 10 + static_cast<std::size_t>(bytes_[position_] - '0'),
                             bytes_.size() + 1);
        }
        return position_ > first_digit && read_crlf();
    }

    bool read_payload(std::size_t length, std::string_view& payload) noexcept {
        if (bytes_.size() - position_ < length) {
            return false;
        }
        payload = bytes_.substr(position_, length);
        position_ += length;
        return read_crlf();
    }

    bool at_end() const noexcept { return position_ == bytes_.size(); }
    std::size_t bytes_left() const noexcept { return bytes_.size() - position_; }

private:
    bool read_crlf() noexcept {
        if (bytes_.size() - position_ < 2 || bytes_[position_] != '\r' ||
            bytes_[position_ + 1] != '\n') {
            return false;
        }
        position_ += 2;
        return true;
    }

    std::string_view bytes_;
    std::size_t position_ = 0;
};

bool is_one_of(std::string_view name, std::initializer_list<std::string_view> names) noexcept {
    return std::find(names.begin(), names.end(), name) != names.end();
}

bool is_subscription_command(const command_info& c) noexcept {
    return is_one_of(c.name, {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE",
                              "PUNSUBSCRIBE", "SUNSUBSCRIBE"});
}

} // namespace

void detail::append_command(std::string& out, std::span<const command_argument> args) {
    append_encoded(out, args.size(), [&](std::size_t i) { return args[i].view(); });
}

void append_command(std::string& out, std::initializer_list<std::string_view> args) {
    append_encoded(out, args.size(), [&](std::size_t i) { return args.begin()[i]; });
}

std::string command(std::initializer_list<std::string_view> args) {
    std::string out;
    append_command(out, args);
    return out;
}

std::optional<command_info> inspect_command(std::string_view bytes, boost::system::error_code& ec) {
    ec = error::invalid_message;
    command_reader reader(bytes);
    std::size_t count = 0;
    // Each bulk string takes at least 6 bytes ("$0\r\n\r\n"): a count the bytes cannot hold
    // is refused before walking them.
    if (!reader.read_header('*', count) || count == 0 || count > reader.bytes_left() / 6) {
        return std::nullopt;
    }
    std::string_view name;
    for (std::size_t i = 0; i < count; ++i) {
        std::size_t length = 0;
        std::string_view argument;
        if (!reader.read_header('$', length) || !reader.read_payload(length, argument)) {
            return std::nullopt;
        }
        if (i == 0) {
            name = argument;
        }
    }
    if (!reader.at_end()) {
        return std::nullopt;
    }
    command_info info;
    info.name.resize(name.size());
    std::transform(name.begin(), name.end(), info.name.begin(), [](char c) {
        return c >= 'a' && c <= 'z' ? static_cast<char>(c - 'a' + 'A') : c;
    });
    info.arguments = count;
    ec.clear();
    return info;
}

std::size_t expected_replies(const command_info& c, bool resp3) {
    if (!resp3 || !is_subscription_command(c)) {
        return 1;
    }
    // SUBSCRIBE without a channel is refused with an ordinary, in-order error reply. The
    // unsubscribe commands accept no channel (meaning all of them) and still answer by push.
    const bool needs_channel = is_one_of(c.name, {"SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE"});
    return needs_channel && c.arguments < 2 ? 1 : 0;
}

bool supported_in_resp2(const command_info& c) {
    return !is_subscription_command(c) && c.name != "MONITOR";
}

bool supported_in_resp3(const command_info& c) {
    return c.name != "MONITOR";
}

} // namespace heartbeat::resp
