#pragma once
// A small DOM of one RESP reply, for applications and tests. The session itself never builds
// one: it only needs resp_scanner's boundaries.
#include <heartbeat/protocol/resp/resp_scanner.hpp>

#include <boost/system/error_code.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace heartbeat::resp {

struct value {
    reply_kind kind = reply_kind::null;
    // simple, bulk and verbatim text (for verbatim, without its "txt:" prefix), error text,
    // a big number's digits (with its sign), a double's text as sent.
    std::string string;
    // verbatim_string only: the 3-byte format, "txt" or "mkd".
    std::string format;
    std::int64_t integer = 0;
    bool boolean = false;
    double number = 0; // double_number (inf and nan included)
    // array, set, push; map as key, value, key, value, ...
    std::vector<value> elements;
    // The attribute map sent before this value, as key, value, ... (empty if none).
    std::vector<value> attributes;

    bool is_error() const noexcept {
        return kind == reply_kind::simple_error || kind == reply_kind::bulk_error;
    }
};

// Parses exactly one complete reply, as resp_scanner delimits it: the same validation and the
// same depth limit apply. Truncated input, bytes after the reply or any malformed byte give
// nullopt with ec = malformed_frame.
std::optional<value> parse_value(std::string_view one_reply, boost::system::error_code& ec);

// A one-line rendering in the spirit of redis-cli, for logs and test messages:
//   OK   (error) ERR no such key   (integer) 42   "bulk \"text\"\r\n"   (nil)   (true)
//   (double) 3.14   (big number) 1234   ["a", (integer) 1]   {"key": "value"}
//   (set) ["a"]   (push) ["message", "channel", "hi"]   (attributes {"ttl": (integer) 9}) "v"
// Bulk and verbatim text is quoted, with \r \n \t \" \\ and other non-printable bytes escaped
// (\xHH), so binary data stays on one line.
std::string to_string(const value& v);

} // namespace heartbeat::resp
