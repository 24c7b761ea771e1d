#pragma once
// Encoding Redis commands (a RESP array of bulk strings, the only form a pipelining session
// sends) and inspecting one before it is sent, so the session knows how many ordered replies
// it will be owed.
#include <boost/system/error_code.hpp>

#include <array>
#include <charconv>
#include <concepts>
#include <cstddef>
#include <initializer_list>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>

namespace heartbeat::resp {

namespace detail {

// Integers become their decimal digits; char and bool are refused at compile time, since
// neither "A" nor 65, "true" nor 1 is obviously what the caller meant.
template <class T>
concept decimal_argument =
    std::integral<T> && !std::same_as<T, bool> && !std::same_as<T, char> &&
    !std::same_as<T, signed char> && !std::same_as<T, unsigned char> && !std::same_as<T, wchar_t> &&
    !std::same_as<T, char8_t> && !std::same_as<T, char16_t> && !std::same_as<T, char32_t>;

template <class T>
concept text_argument = std::convertible_to<const T&, std::string_view>;

// One argument's bytes: a view of the caller's text, or an integer's digits held inline.
// Views into it are valid while it lives and is not moved.
class command_argument {
public:
    template <text_argument T>
    command_argument(const T& text) noexcept : text_(std::string_view(text)) {}

    template <decimal_argument T>
    command_argument(T number) noexcept {
        static_assert(sizeof(T) <= 8, "integers up to 64 bits");
        const auto end = std::to_chars(digits_.data(), digits_.data() + digits_.size(), number).ptr;
        text_ = std::string_view(digits_.data(), static_cast<std::size_t>(end - digits_.data()));
    }

    command_argument(const command_argument&) = delete;
    command_argument& operator=(const command_argument&) = delete;

    std::string_view view() const noexcept { return text_; }

private:
    std::array<char, 20> digits_{}; // "-9223372036854775808"
    std::string_view text_;
};

void append_command(std::string& out, std::span<const command_argument> args);

} // namespace detail

// Appends `*N\r\n` then `$len\r\narg\r\n` per argument. Arguments are binary safe.
// Precondition (std::invalid_argument otherwise): at least one argument, the command name.
// Redis silently ignores an empty array, which would shift every later reply by one.
void append_command(std::string& out, std::initializer_list<std::string_view> args);
std::string command(std::initializer_list<std::string_view> args);

// The same with mixed arguments: anything convertible to std::string_view, and integers
// (written in decimal): resp::command("SET", key, 42).
template <class... Args>
requires(sizeof...(Args) > 0 &&
         ((detail::text_argument<Args> ||
           detail::decimal_argument<Args>)&&...)) void append_command(std::string& out,
                                                                      const Args&... args) {
    const detail::command_argument arguments[] = {args...};
    detail::append_command(out, arguments);
}

template <class... Args>
requires(sizeof...(Args) > 0 &&
         ((detail::text_argument<Args> || detail::decimal_argument<Args>)&&...)) std::string
    command(const Args&... args) {
    std::string out;
    append_command(out, args...);
    return out;
}

struct command_info {
    std::string name;          // the first argument, upper-cased (ASCII)
    std::size_t arguments = 0; // including the name
};

// Accepts exactly one complete RESP array of at least one bulk string with nothing after it,
// the form command() produces. Anything else (inline commands, several commands, an empty or
// null array, a non-bulk or null element, a truncated command, trailing bytes) gives nullopt
// with ec = invalid_message. Work is linear in bytes.size(); nothing is allocated but the name.
std::optional<command_info> inspect_command(std::string_view bytes, boost::system::error_code& ec);

// How many replies, matched in order, the server sends for this command: 1, except the RESP3
// (un)subscribe family (SUBSCRIBE, PSUBSCRIBE, SSUBSCRIBE, UNSUBSCRIBE, PUNSUBSCRIBE,
// SUNSUBSCRIBE), whose confirmations, one per channel, arrive as out-of-band push messages: 0.
// A SUBSCRIBE, PSUBSCRIBE or SSUBSCRIBE without a channel gets 1: Redis refuses it with an
// ordinary error reply. Other refusals of the family (ACL NOPERM, cluster CROSSSLOT, inside
// MULTI) are ordinary error replies too, which no inspection of the request can predict.
std::size_t expected_replies(const command_info& c, bool resp3);

// Whether an ordered (FIFO) session can carry the command.
// RESP2: not the (un)subscribe family: it switches the connection to subscriber mode, where
// messages arrive as ordinary arrays nobody asked for and PING replies change shape, so replies
// no longer follow requests. Not MONITOR either (see below).
bool supported_in_resp2(const command_info& c);
// RESP3: not MONITOR: after its +OK the server streams every command it executes as plain
// simple strings (not pushes), indistinguishable from replies.
bool supported_in_resp3(const command_info& c);

} // namespace heartbeat::resp
