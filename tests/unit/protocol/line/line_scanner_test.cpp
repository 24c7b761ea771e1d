#include <heartbeat/protocol/line/line_scanner.hpp>

#include <heartbeat/core/error.hpp>

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace heartbeat::line {

static void PrintTo(line_scan::status s, std::ostream* os) {
    switch (s) {
    case line_scan::status::complete:
        *os << "complete";
        return;
    case line_scan::status::need_more:
        *os << "need_more";
        return;
    case line_scan::status::error:
        *os << "error";
        return;
    }
}

namespace {

using status = line_scan::status;
const boost::system::error_code too_large = make_error_code(error::frame_too_large);

std::span<const std::uint8_t> bytes_of(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

line_scan scan_once(line_ending ending, std::size_t max, std::string_view input) {
    line_scanner scanner{ending, max};
    return scanner.scan(bytes_of(input));
}

// A reader that receives `stream` in reads of at most `chunk` bytes, into a buffer that is
// rebuilt (moved) on every read, and scans after each read. Records each line and the total
// number of bytes it had received when the line completed.
struct reading {
    std::vector<std::string> lines;
    std::vector<std::size_t> completed_after;
    bool failed = false;
};

reading read_in_chunks(line_ending ending, std::size_t max, std::string_view stream,
                       std::size_t first_chunk, std::size_t chunk) {
    line_scanner scanner{ending, max};
    reading r;
    std::string buffer;
    std::size_t received = 0;
    for (bool first = true; received < stream.size() && !r.failed; first = false) {
        const std::size_t n = first ? first_chunk : chunk;
        buffer = buffer + std::string(stream.substr(received, n)); // a new allocation: moved
        received += std::min(n, stream.size() - received);
        for (;;) {
            const auto scan = scanner.scan(bytes_of(buffer));
            if (scan.st == status::error) {
                r.failed = true;
                break;
            }
            if (scan.st == status::need_more) {
                break;
            }
            r.lines.emplace_back(scan.line);
            r.completed_after.push_back(received);
            buffer.erase(0, scan.consumed);
        }
    }
    return r;
}

TEST(LineScanner, CrlfLine) {
    const std::string_view input = "PONG\r\n";
    line_scanner scanner{line_ending::crlf, 64};
    const auto scan = scanner.scan(bytes_of(input));
    EXPECT_EQ(scan.st, status::complete);
    EXPECT_EQ(scan.consumed, 6u);
    EXPECT_EQ(scan.line, "PONG");
    EXPECT_EQ(scan.line.data(), input.data()); // a view into the input, not a copy
    EXPECT_FALSE(scan.ec);
}

TEST(LineScanner, LfLine) {
    const auto scan = scan_once(line_ending::lf, 64, "PONG\n");
    EXPECT_EQ(scan.st, status::complete);
    EXPECT_EQ(scan.consumed, 5u);
    EXPECT_EQ(scan.line, "PONG");
}

TEST(LineScanner, CrlfModeAcceptsABareLf) {
    const auto scan = scan_once(line_ending::crlf, 64, "PONG\nNEXT");
    EXPECT_EQ(scan.st, status::complete);
    EXPECT_EQ(scan.consumed, 5u);
    EXPECT_EQ(scan.line, "PONG");
}

TEST(LineScanner, LfModeKeepsTheCr) {
    const auto scan = scan_once(line_ending::lf, 64, "PONG\r\n");
    EXPECT_EQ(scan.st, status::complete);
    EXPECT_EQ(scan.consumed, 6u);
    EXPECT_EQ(scan.line, "PONG\r");
}

TEST(LineScanner, CrlfModeStripsOnlyTheCrBeforeTheLf) {
    EXPECT_EQ(scan_once(line_ending::crlf, 64, "a\rb\r\n").line, "a\rb");
    EXPECT_EQ(scan_once(line_ending::crlf, 64, "a\r\r\n").line, "a\r");
    const auto lone_cr = scan_once(line_ending::crlf, 64, "a\rb");
    EXPECT_EQ(lone_cr.st, status::need_more);
}

TEST(LineScanner, EmptyLines) {
    for (auto [ending, input, consumed] :
         {std::tuple{line_ending::crlf, "\r\n", 2u}, std::tuple{line_ending::crlf, "\n", 1u},
          std::tuple{line_ending::lf, "\n", 1u}}) {
        const auto scan = scan_once(ending, 0, input);
        EXPECT_EQ(scan.st, status::complete) << input;
        EXPECT_EQ(scan.consumed, consumed);
        EXPECT_EQ(scan.line, "");
    }
    EXPECT_EQ(scan_once(line_ending::lf, 0, "\r\n").st, status::error); // "\r" is 1 byte > 0
}

TEST(LineScanner, NothingYetNeedsMore) {
    for (auto ending : {line_ending::crlf, line_ending::lf}) {
        EXPECT_EQ(scan_once(ending, 8, "").st, status::need_more);
        EXPECT_EQ(scan_once(ending, 8, "PON").st, status::need_more);
        EXPECT_EQ(scan_once(ending, 8, "PONG\r").st, status::need_more);
    }
}

TEST(LineScanner, BackToBackLines) {
    const std::string_view stream = "+OK\r\nPONG\r\n\r\nbare\nlast\r\n";
    line_scanner scanner{line_ending::crlf, 16};
    std::vector<std::string> lines;
    std::size_t offset = 0;
    for (;;) {
        const auto scan = scanner.scan(bytes_of(stream.substr(offset)));
        if (scan.st != status::complete) {
            EXPECT_EQ(scan.st, status::need_more);
            break;
        }
        lines.emplace_back(scan.line);
        offset += scan.consumed;
    }
    EXPECT_EQ(offset, stream.size());
    EXPECT_EQ(lines, (std::vector<std::string>{"+OK", "PONG", "", "bare", "last"}));
}

TEST(LineScanner, EverySplitPointBothEndings) {
    struct case_t {
        line_ending ending;
        std::string_view stream;
        std::vector<std::string> lines;
        std::vector<std::size_t> ends; // offset just past each line's '\n'
    };
    const case_t cases[] = {
        {line_ending::crlf,
         "PING\r\n\r\n+PONG hello\r\nx\n\r\r\n",
         {"PING", "", "+PONG hello", "x", "\r"},
         {6, 8, 21, 23, 26}},
        {line_ending::lf, "PING\n\nPONG\r\nx\n", {"PING", "", "PONG\r", "x"}, {5, 6, 12, 14}},
    };
    for (const auto& c : cases) {
        for (std::size_t split = 0; split <= c.stream.size(); ++split) {
            const auto r = read_in_chunks(c.ending, 16, c.stream, split, c.stream.size());
            EXPECT_FALSE(r.failed) << split;
            EXPECT_EQ(r.lines, c.lines) << "split at " << split;
        }
        // Byte by byte: each line completes exactly when its '\n' arrives, not before.
        const auto r = read_in_chunks(c.ending, 16, c.stream, 1, 1);
        EXPECT_EQ(r.lines, c.lines);
        EXPECT_EQ(r.completed_after, c.ends);
    }
}

TEST(LineScanner, ResumesWhereItStoppedSearching) {
    line_scanner scanner{line_ending::lf, 64};
    EXPECT_EQ(scanner.scan(bytes_of("abc")).st, status::need_more);
    // The caller promised to pass the same bytes again: a '\n' slipped into the part already
    // searched is not looked at again, which is what makes a long line O(n) in total.
    EXPECT_EQ(scanner.scan(bytes_of("a\ncd")).st, status::need_more);
    const auto found = scanner.scan(bytes_of("a\ncd\n"));
    EXPECT_EQ(found.st, status::complete);
    EXPECT_EQ(found.line, "a\ncd");

    // reset() forgets the searched offset.
    EXPECT_EQ(scanner.scan(bytes_of("abc")).st, status::need_more);
    scanner.reset();
    const auto after_reset = scanner.scan(bytes_of("a\ncd"));
    EXPECT_EQ(after_reset.st, status::complete);
    EXPECT_EQ(after_reset.line, "a");
}

TEST(LineScanner, StartsAfreshAfterACompleteLine) {
    line_scanner scanner{line_ending::crlf, 64};
    EXPECT_EQ(scanner.scan(bytes_of("abcd")).st, status::need_more);
    const auto first = scanner.scan(bytes_of("abcd\r\nx\r\n"));
    ASSERT_EQ(first.st, status::complete);
    EXPECT_EQ(first.consumed, 6u);
    // Had the scanner kept its offset of 4, it would search past this shorter line's end.
    const auto second = scanner.scan(bytes_of("x\r\n"));
    EXPECT_EQ(second.st, status::complete);
    EXPECT_EQ(second.line, "x");
}

TEST(LineScanner, ShorterInputThanSearchedIsSafe) {
    line_scanner scanner{line_ending::lf, 64};
    EXPECT_EQ(scanner.scan(bytes_of("abcdef")).st, status::need_more);
    EXPECT_EQ(scanner.scan(bytes_of("ab")).st, status::need_more); // contract broken: no crash
}

TEST(LineScannerLimit, LfExactlyAtTheLimitVersusOneOver) {
    const auto at_limit = scan_once(line_ending::lf, 4, "abcd\n");
    EXPECT_EQ(at_limit.st, status::complete);
    EXPECT_EQ(at_limit.line, "abcd");

    for (std::string_view over : {"abcde\n", "abcde"}) {
        const auto scan = scan_once(line_ending::lf, 4, over);
        EXPECT_EQ(scan.st, status::error) << over;
        EXPECT_EQ(scan.ec, too_large);
    }
    EXPECT_EQ(scan_once(line_ending::lf, 4, "abcd").st, status::need_more);
    // In lf mode a '\r' is content and counts.
    EXPECT_EQ(scan_once(line_ending::lf, 4, "abcd\r\n").st, status::error);
}

TEST(LineScannerLimit, CrlfExactlyAtTheLimitVersusOneOver) {
    EXPECT_EQ(scan_once(line_ending::crlf, 4, "abcd\r\n").line, "abcd");
    EXPECT_EQ(scan_once(line_ending::crlf, 4, "abcd\n").line, "abcd");
    EXPECT_EQ(scan_once(line_ending::crlf, 4, "abc\r\r\n").line, "abc\r");
    // The '\r' past the limit may still be the terminator's.
    EXPECT_EQ(scan_once(line_ending::crlf, 4, "abcd\r").st, status::need_more);

    for (std::string_view over : {"abcde", "abcde\r\n", "abcd\rx", "abcd\r\r", "abcd\r\r\n"}) {
        const auto scan = scan_once(line_ending::crlf, 4, over);
        EXPECT_EQ(scan.st, status::error) << over;
        EXPECT_EQ(scan.ec, too_large);
    }
}

TEST(LineScannerLimit, ReportedAsSoonAsTheLimitIsPassed) {
    for (auto ending : {line_ending::crlf, line_ending::lf}) {
        const std::string endless(100, 'z');
        line_scanner scanner{ending, 4};
        for (std::size_t n = 0; n <= 4; ++n) {
            EXPECT_EQ(scanner.scan(bytes_of(std::string_view(endless).substr(0, n))).st,
                      status::need_more)
                << n;
        }
        const auto fifth = scanner.scan(bytes_of(std::string_view(endless).substr(0, 5)));
        EXPECT_EQ(fifth.st, status::error);
        EXPECT_EQ(fifth.ec, too_large);
    }
}

TEST(LineScannerLimit, ZeroAllowsOnlyEmptyLines) {
    EXPECT_EQ(scan_once(line_ending::lf, 0, "\n").st, status::complete);
    EXPECT_EQ(scan_once(line_ending::crlf, 0, "\r\n").st, status::complete);
    EXPECT_EQ(scan_once(line_ending::crlf, 0, "\r").st, status::need_more);
    EXPECT_EQ(scan_once(line_ending::lf, 0, "x").st, status::error);
    EXPECT_EQ(scan_once(line_ending::crlf, 0, "x").st, status::error);
}

TEST(LineScannerLimit, NoLimitDoesNotOverflow) {
    const auto scan = scan_once(line_ending::crlf, SIZE_MAX, "long enough\r\n");
    EXPECT_EQ(scan.st, status::complete);
    EXPECT_EQ(scan.line, "long enough");
    EXPECT_EQ(scan_once(line_ending::lf, SIZE_MAX, "no end").st, status::need_more);
}

TEST(LineReply, ExactAndPrefixMatching) {
    EXPECT_TRUE(reply_matches("PONG", "PONG", match_kind::exact));
    EXPECT_FALSE(reply_matches("PONG ", "PONG", match_kind::exact));
    EXPECT_FALSE(reply_matches("pong", "PONG", match_kind::exact));
    EXPECT_FALSE(reply_matches("PON", "PONG", match_kind::exact));
    EXPECT_TRUE(reply_matches("", "", match_kind::exact));
    EXPECT_FALSE(reply_matches("x", "", match_kind::exact));

    EXPECT_TRUE(reply_matches("+PONG 1712345678", "+PONG", match_kind::prefix));
    EXPECT_TRUE(reply_matches("+PONG", "+PONG", match_kind::prefix));
    EXPECT_FALSE(reply_matches("+PON", "+PONG", match_kind::prefix));
    EXPECT_FALSE(reply_matches("x+PONG", "+PONG", match_kind::prefix));
    EXPECT_TRUE(reply_matches("anything", "", match_kind::prefix));
}

TEST(LineOutgoing, ValidatesLinesBeforeSending) {
    const auto invalid = make_error_code(error::invalid_message);
    EXPECT_FALSE(validate_outgoing_line("PING", 4));
    EXPECT_FALSE(validate_outgoing_line("", 0));
    EXPECT_EQ(validate_outgoing_line("PINGS", 4), invalid);
    EXPECT_EQ(validate_outgoing_line("PI\rNG", 64), invalid);
    EXPECT_EQ(validate_outgoing_line("PING\n", 64), invalid);
    EXPECT_EQ(validate_outgoing_line("PING\r\n", 64), invalid);
}

TEST(LineOutgoing, Terminators) {
    EXPECT_STREQ(terminator(line_ending::crlf), "\r\n");
    EXPECT_STREQ(terminator(line_ending::lf), "\n");
}

} // namespace
} // namespace heartbeat::line
