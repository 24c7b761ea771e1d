#pragma once
// Line-oriented text protocols, sans-io: finding where a line ends in a byte stream, checking a
// line we are about to send, and matching a reply against the expected one.
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace heartbeat::line {

enum class line_ending : std::uint8_t { crlf, lf };

// "\r\n" or "\n": what we append to the lines we send.
const char* terminator(line_ending ending) noexcept;

struct line_scan {
    enum class status : std::uint8_t { complete, need_more, error } st = status::need_more;
    // st == complete: the line's bytes including its terminator; drop them before the next scan.
    std::size_t consumed = 0;
    // st == complete: the line without its terminator, pointing into the scanned input.
    std::string_view line{};
    // st == error: frame_too_large. The rest of the stream has no known line boundary.
    boost::system::error_code ec{};
};

// Finds the first line in a stream of bytes, incrementally.
//
// Reading is lenient: a line ends at '\n'. In crlf mode a '\r' just before it is stripped and a
// bare '\n' is accepted too (plenty of "CRLF" servers answer with LF); a '\r' anywhere else is
// part of the line. In lf mode nothing is stripped, so "PONG\r\n" reads as "PONG\r".
//
// A line may be at most max_line_length bytes without its terminator. A longer one is
// frame_too_large as soon as max_line_length + 1 bytes of it arrived (in crlf mode: unless that
// extra byte is a '\r' that the next byte may show to be the terminator's), never waiting for
// its end: a peer that never sends '\n' cannot make us buffer without bound.
class line_scanner {
public:
    line_scanner(line_ending ending, std::size_t max_line_length) noexcept;

    // `unparsed`: the bytes not yet consumed, starting at the start of the current line. After
    // need_more, call again with the same bytes plus whatever arrived since (the buffer may have
    // moved; only the offset searched so far is remembered), so a long line arriving byte by
    // byte is searched once in total. After complete or error the scanner starts afresh at the
    // next call.
    line_scan scan(std::span<const std::uint8_t> unparsed) noexcept;

    // Forgets a partly searched line, e.g. when the connection is replaced.
    void reset() noexcept { searched_ = 0; }

private:
    line_ending ending_;
    std::size_t max_line_length_;
    // Bytes at the start of the current line known to hold no '\n'.
    std::size_t searched_ = 0;
};

enum class match_kind : std::uint8_t { exact, prefix };

// Case-sensitive. With prefix, an empty `expected` matches every line.
bool reply_matches(std::string_view line, std::string_view expected, match_kind kind) noexcept;

// invalid_message when `line` (to be sent with a terminator appended) contains '\r' or '\n',
// which would split it into several lines on the wire, or is longer than max_line_length.
boost::system::error_code validate_outgoing_line(std::string_view line,
                                                 std::size_t max_line_length) noexcept;

} // namespace heartbeat::line
