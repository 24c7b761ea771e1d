#pragma once
// Sans-io framing of RESP2 and RESP3 replies: finds where each reply ends, incrementally,
// without allocating, so a session can match replies to its pipelined requests by order.
//
// It validates strictly and builds nothing; parse_value (resp_value.hpp) turns one delimited
// reply into a value when an application wants to look inside.
//
// Accepted types:  + - : $ * _ # , ( ! = % ~ >  and attributes |
//   - RESP2 null bulk string `$-1` and null array `*-1` are reported as reply_kind::null;
//     no other type may have length -1.
//   - An attribute map and the reply after it are one unit whose kind is the reply's kind.
//     Attributes may also precede nested elements (they are part of the enclosing reply).
//   - A push `>` is accepted nested too (Redis only sends it at top level, where it matters:
//     scan_result::is_push tells the session it is out of band).
//   - Streamed strings and aggregates (`$?`, `*?`, `;` chunks, `.` end) are rejected with
//     malformed_frame: Redis never sends them, and accepting them would make a reply's size
//     unknowable before its end.
//
// Strictness: every line ends with CRLF (a bare CR or LF is malformed); a bulk payload is
// followed by CRLF; lengths and counts are unsigned decimals (no sign; -1 only where allowed);
// integers are [+-]digits within the signed 64-bit range; booleans are t or f; doubles are
// [+-]digits[.digits][(e|E)[+-]digits], inf, -inf or nan; big numbers are [+-]digits; null `_`
// has an empty line; a verbatim string's payload starts with a 3-byte format and ':'. Length,
// count, integer, boolean and null lines longer than 32 bytes are malformed (a legitimate one is
// at most 20).
#include <heartbeat/core/error.hpp>

#include <boost/system/error_code.hpp>

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace heartbeat::resp {

enum class reply_kind : std::uint8_t {
    simple_string,
    simple_error,
    integer,
    bulk_string,
    bulk_error,
    verbatim_string,
    null,
    boolean,
    double_number,
    big_number,
    array,
    map,
    set,
    push,
};

// Stable lower-case name ("bulk_string", ...), for logs and test messages.
const char* kind_name(reply_kind kind) noexcept;

struct scan_result {
    enum class status : std::uint8_t { complete, need_more, error };

    status st = status::need_more;
    // st == complete: the size of the whole reply (attributes included), counted from the
    // start of the scanned bytes; drop that many bytes before scanning the next reply.
    std::size_t consumed = 0;
    // st == complete: the reply's kind (for an attributed reply, the kind after the attribute).
    reply_kind kind{};
    // st == error: malformed_frame or frame_too_large. A RESP stream cannot be resynchronised
    // after either, so the connection must be closed.
    boost::system::error_code ec;

    // A complete RESP3 push (out-of-band: pub/sub message, invalidation), not a reply to a request.
    bool is_push() const noexcept { return st == status::complete && kind == reply_kind::push; }
    // A complete reply that is an error (simple or bulk) at top level. An error nested in an
    // aggregate (e.g. one failed command of EXEC) does not count: the reply itself succeeded.
    bool is_error() const noexcept {
        return st == status::complete &&
               (kind == reply_kind::simple_error || kind == reply_kind::bulk_error);
    }
};

class resp_scanner {
public:
    // Deepest nesting of aggregates (attributes included) a reply may have.
    static constexpr std::size_t max_depth = 64;

    // A reply larger than max_reply_size bytes (all of it: headers, payloads, CRLFs, attributes)
    // fails with frame_too_large as soon as its declared lengths and counts prove it cannot fit,
    // before its bytes arrive. Each announced element counts as at least 3 bytes, the smallest
    // RESP value ("_\r\n"), so a huge count is refused at once too.
    explicit resp_scanner(std::size_t max_reply_size = std::size_t{512} << 20) noexcept;

    // `unparsed` starts at the first byte of a reply not yet consumed. After need_more, call
    // again with the same bytes plus more appended (the buffer may have moved: the scanner keeps
    // offsets, never pointers). Work resumes where it stopped, so a reply costs O(its size) in
    // total however it is split. After complete or error the scanner is ready for a new reply.
    // Precondition: after need_more, `unparsed` is at least as long as in the previous call.
    scan_result scan(std::span<const std::uint8_t> unparsed) noexcept;

    // Forgets the reply in progress (e.g. after a reconnect).
    void reset() noexcept;

private:
    enum class phase : std::uint8_t { type_byte, line, bulk_payload };
    enum class progress : std::uint8_t { advanced, need_more, complete, failed };

    struct open_aggregate {
        std::uint64_t remaining = 0; // elements not yet started
        bool attribute = false;      // completing it does not complete a value of its parent
    };

    progress read_type_byte(std::span<const std::uint8_t> bytes) noexcept;
    progress read_line(std::span<const std::uint8_t> bytes) noexcept;
    progress read_bulk_payload(std::span<const std::uint8_t> bytes) noexcept;
    progress on_line(std::span<const std::uint8_t> line) noexcept;
    progress on_bulk_header(std::span<const std::uint8_t> line) noexcept;
    progress on_aggregate_header(std::span<const std::uint8_t> line) noexcept;
    progress finish_value() noexcept;
    progress fail(error reason) noexcept;
    void record_kind(reply_kind kind) noexcept;
    std::int64_t room_after(std::size_t offset) const noexcept;

    std::size_t max_reply_size_;

    // Offsets are relative to the start of the reply (the start of `unparsed`).
    std::size_t position_ = 0;    // start of the element being read, or end of what was walked
    std::size_t line_start_ = 0;  // first byte after the type byte
    std::size_t search_from_ = 0; // where the CRLF search resumes
    std::size_t line_limit_ = 0;  // the last offset the line's CR may have
    std::size_t bulk_end_ = 0;    // offset of the CRLF after a bulk payload
    phase phase_ = phase::type_byte;
    std::uint8_t type_ = 0;
    error line_limit_error_{}; // what reaching line_limit_ without CRLF means
    bool verbatim_format_checked_ = false;
    reply_kind kind_{};
    error failure_{};

    // Elements announced by open aggregates but not yet started, for the size bound.
    std::uint64_t pending_elements_ = 0;
    std::size_t depth_ = 0;
    std::array<open_aggregate, max_depth> open_{};
};

} // namespace heartbeat::resp
