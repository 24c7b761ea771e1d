#include <heartbeat/protocol/resp/resp_scanner.hpp>

#include <heartbeat/core/error.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace heartbeat::resp {
namespace {

using namespace std::string_literals;
using status = scan_result::status;

std::span<const std::uint8_t> bytes_of(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

std::string repeat(std::string_view piece, std::size_t times) {
    std::string out;
    for (std::size_t i = 0; i < times; ++i) {
        out += piece;
    }
    return out;
}

// Scans `input` one byte more per call, with one scanner, and expects need_more until the
// error, which must then be `expected` no later than when all of `input` is there.
void expect_error_incrementally(std::string_view input, error expected) {
    resp_scanner scanner;
    for (std::size_t length = 0; length <= input.size(); ++length) {
        const scan_result r = scanner.scan(bytes_of(input.substr(0, length)));
        if (r.st == status::error) {
            EXPECT_EQ(r.ec, make_error_code(expected)) << "input: " << input;
            return;
        }
        ASSERT_EQ(r.st, status::need_more) << "input: " << input << " prefix " << length;
    }
    ADD_FAILURE() << "no error for: " << input;
}

struct typed_reply {
    std::string bytes;
    reply_kind kind;
};

TEST(RespScanner, EveryTypeAtTopLevel) {
    const std::vector<typed_reply> replies = {
        {"+OK\r\n", reply_kind::simple_string},
        {"+\r\n", reply_kind::simple_string},
        {"-ERR unknown command 'FOO'\r\n", reply_kind::simple_error},
        {":0\r\n", reply_kind::integer},
        {":+5\r\n", reply_kind::integer},
        {":-9223372036854775808\r\n", reply_kind::integer},
        {":9223372036854775807\r\n", reply_kind::integer},
        {"$5\r\nhello\r\n", reply_kind::bulk_string},
        {"$0\r\n\r\n", reply_kind::bulk_string},
        {"$6\r\na\r\n\0\rb\r\n"s, reply_kind::bulk_string},
        {"!21\r\nSYNTAX invalid syntax\r\n", reply_kind::bulk_error},
        {"=15\r\ntxt:Some string\r\n", reply_kind::verbatim_string},
        {"_\r\n", reply_kind::null},
        {"$-1\r\n", reply_kind::null},
        {"*-1\r\n", reply_kind::null},
        {"#t\r\n", reply_kind::boolean},
        {"#f\r\n", reply_kind::boolean},
        {",1.23\r\n", reply_kind::double_number},
        {",10\r\n", reply_kind::double_number},
        {",-1.5e-10\r\n", reply_kind::double_number},
        {",+2E+3\r\n", reply_kind::double_number},
        {",inf\r\n", reply_kind::double_number},
        {",-inf\r\n", reply_kind::double_number},
        {",nan\r\n", reply_kind::double_number},
        {"(3492890328409238509324850943850943825024385\r\n", reply_kind::big_number},
        {"(-1\r\n", reply_kind::big_number},
        {"*2\r\n$3\r\nfoo\r\n:1\r\n", reply_kind::array},
        {"*0\r\n", reply_kind::array},
        {"%1\r\n+key\r\n:1\r\n", reply_kind::map},
        {"%0\r\n", reply_kind::map},
        {"~2\r\n+a\r\n+b\r\n", reply_kind::set},
        {">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n", reply_kind::push},
        // An attribute and the reply it annotates are one unit of the reply's kind.
        {"|1\r\n+ttl\r\n:3\r\n$1\r\nv\r\n", reply_kind::bulk_string},
        {"|0\r\n:1\r\n", reply_kind::integer},
        {"|1\r\n+a\r\n+b\r\n|1\r\n+c\r\n+d\r\n-ERR x\r\n", reply_kind::simple_error},
        {"|1\r\n+a\r\n+b\r\n>1\r\n+invalidate\r\n", reply_kind::push},
    };
    for (const auto& [bytes, kind] : replies) {
        resp_scanner scanner;
        // A following reply must not be counted in.
        const std::string stream = bytes + ":42\r\n";
        const scan_result r = scanner.scan(bytes_of(stream));
        ASSERT_EQ(r.st, status::complete) << bytes << " " << r.ec.message();
        EXPECT_EQ(r.consumed, bytes.size()) << bytes;
        EXPECT_EQ(r.kind, kind) << bytes << ": " << kind_name(r.kind);
        EXPECT_EQ(r.is_push(), kind == reply_kind::push) << bytes;
        EXPECT_EQ(r.is_error(), kind == reply_kind::simple_error || kind == reply_kind::bulk_error);
    }
}

TEST(RespScanner, NestedAggregatesAndAttributes) {
    const std::vector<std::string> replies = {
        // An array of maps of sets.
        "*2\r\n%2\r\n+k\r\n~2\r\n:1\r\n#t\r\n$2\r\nk2\r\n~0\r\n%1\r\n_\r\n*1\r\n~1\r\n,1.5\r\n",
        // An attribute before a nested element (the RESP3 spec's example).
        "*2\r\n|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.1923\r\n$1\r\nb\r\n,0.0012\r\n"
        ":2039123\r\n:9543892\r\n",
        // An attribute before the last element, and one inside an attribute.
        "*2\r\n:1\r\n|1\r\n|1\r\n+x\r\n+y\r\n+k\r\n+v\r\n:2\r\n",
        // Errors and nulls nested in aggregates (an EXEC reply).
        "*4\r\n+OK\r\n-ERR wrong type\r\n$-1\r\n*-1\r\n",
        // Empty aggregates at the end of their parents.
        "*2\r\n*0\r\n%1\r\n~0\r\n*0\r\n",
    };
    for (const auto& reply : replies) {
        resp_scanner scanner;
        const scan_result r = scanner.scan(bytes_of(reply + "+next\r\n"));
        ASSERT_EQ(r.st, status::complete) << reply << " " << r.ec.message();
        EXPECT_EQ(r.consumed, reply.size()) << reply;
        EXPECT_EQ(r.kind, reply_kind::array) << reply;
        EXPECT_FALSE(r.is_error()) << "a nested error is not the reply's";
    }
}

TEST(RespScanner, PipelinedRepliesBackToBack) {
    const std::vector<typed_reply> replies = {
        {"+PONG\r\n", reply_kind::simple_string},   {":1\r\n", reply_kind::integer},
        {"$3\r\nfoo\r\n", reply_kind::bulk_string}, {"*1\r\n+a\r\n", reply_kind::array},
        {">2\r\n+p\r\n+q\r\n", reply_kind::push},   {"-ERR\r\n", reply_kind::simple_error},
    };
    std::string stream;
    for (const auto& reply : replies) {
        stream += reply.bytes;
    }
    resp_scanner scanner;
    std::span<const std::uint8_t> rest = bytes_of(stream);
    for (const auto& [bytes, kind] : replies) {
        const scan_result r = scanner.scan(rest);
        ASSERT_EQ(r.st, status::complete);
        EXPECT_EQ(r.consumed, bytes.size());
        EXPECT_EQ(r.kind, kind);
        rest = rest.subspan(r.consumed);
    }
    EXPECT_TRUE(rest.empty());
    EXPECT_EQ(scanner.scan(rest).st, status::need_more);
}

TEST(RespScanner, DepthLimitIs64NestedAggregates) {
    const std::string deepest = repeat("*1\r\n", resp_scanner::max_depth) + ":1\r\n";
    resp_scanner scanner;
    const scan_result ok = scanner.scan(bytes_of(deepest));
    ASSERT_EQ(ok.st, status::complete);
    EXPECT_EQ(ok.consumed, deepest.size());

    const std::string too_deep = repeat("*1\r\n", resp_scanner::max_depth + 1) + ":1\r\n";
    const scan_result r = scanner.scan(bytes_of(too_deep));
    ASSERT_EQ(r.st, status::error);
    EXPECT_EQ(r.ec, make_error_code(error::malformed_frame));
    // Attributes take a level too, and so does an empty aggregate.
    expect_error_incrementally(repeat("*1\r\n", 64) + "|1\r\n+a\r\n+b\r\n:1\r\n",
                               error::malformed_frame);
    expect_error_incrementally(repeat("*1\r\n", 64) + "*0\r\n", error::malformed_frame);
}

TEST(RespScanner, MalformedReplies) {
    const std::vector<std::string> malformed = {
        "?\r\n",
        "\r\n",
        " +OK\r\n",
        "\x00"s,
        ";4\r\nHell\r\n",
        ".\r\n", // bad type byte
        "+OK\n",
        "+OK\rX",
        "-ERR\r\r\n",
        "+a\nb\r\n",
        ":1\n",
        "*1\n", // CRLF
        "$abc\r\n",
        "$\r\n",
        "$+5\r\n",
        "$-2\r\n",
        "$-0\r\n",
        "$ 1\r\n",
        "$1 \r\n", // lengths
        "*-2\r\n",
        "*+1\r\n",
        "*x\r\n",
        "%-1\r\n",
        "~-1\r\n",
        ">-1\r\n",
        "|-1\r\n",
        "!-1\r\n",
        "=-1\r\n",
        "$3\r\nfooXY",
        "$3\r\nfoo\rX",
        "$3\r\nfoo\n\r",
        "$3\r\nfooo\r\n",
        "$3\r\nfo\r\n+\r\n",
        "#x\r\n",
        "#\r\n",
        "#tt\r\n",
        "#T\r\n",
        "#1\r\n", // booleans
        ":9223372036854775808\r\n",
        ":-9223372036854775809\r\n", // integers
        ":99999999999999999999\r\n",
        ":\r\n",
        ":-\r\n",
        ":1.5\r\n",
        ": 1\r\n",
        ":12a\r\n",
        "_x\r\n",
        "_ \r\n", // null
        ",\r\n",
        ",1.\r\n",
        ",.5\r\n",
        ",1e\r\n",
        ",abc\r\n",
        ",-nan\r\n",
        ",infinity\r\n",
        ",1.5.2\r\n",
        "(\r\n",
        "(12a\r\n",
        "(-\r\n",
        "(1.5\r\n", // numbers
        "=3\r\ntxt\r\n",
        "=5\r\ntxt-a\r\n", // verbatim
        "$?\r\n;4\r\nHell\r\n;0\r\n",
        "*?\r\n:1\r\n.\r\n",
        "%?\r\n",
        "~?\r\n",
        "!?\r\n", // streamed
        "*2\r\n+OK\r\n#x\r\n",
        "%1\r\n+k\r\n$2\r\nabc\r\n",
        "*1\r\n|1\r\n+a\r\n?\r\n", // nested
        ":" + std::string(40, '1'),
        "*" + std::string(33, '0'), // long short lines
    };
    for (const auto& input : malformed) {
        resp_scanner scanner;
        const scan_result r = scanner.scan(bytes_of(input));
        ASSERT_EQ(r.st, status::error) << "accepted: " << input;
        EXPECT_EQ(r.ec, make_error_code(error::malformed_frame)) << input;
        EXPECT_EQ(r.consumed, 0u);
        expect_error_incrementally(input, error::malformed_frame);
    }
}

TEST(RespScanner, HugeDeclaredSizesFailBeforeTheBytesArrive) {
    const auto expect_too_large = [](std::size_t max, const std::string& input) {
        resp_scanner scanner(max);
        const scan_result r = scanner.scan(bytes_of(input));
        ASSERT_EQ(r.st, status::error) << input;
        EXPECT_EQ(r.ec, make_error_code(error::frame_too_large)) << input;
    };
    expect_too_large(512u << 20, "$1000000000\r\n");
    expect_too_large(512u << 20, "*2147483647\r\n");
    expect_too_large(512u << 20, "%100000000\r\n"); // a map holds twice its count
    expect_too_large(512u << 20, "$99999999999999999999999999\r\n");
    expect_too_large(512u << 20, "*1\r\n*1\r\n=999999999\r\n");
    // Exactly at the bound: header 7 + payload 1015 + CRLF 2 = 1024.
    expect_too_large(1024, "$1016\r\n");
    expect_too_large(1024, "*340\r\n"); // 6 + 340 * 3 = 1026
    // Elements announced but not started keep their 3 bytes: 4 + 4 + 55 + 2 + 3 > 64.
    expect_too_large(64, "*2\r\n$55\r\n");
    expect_too_large(64, "*2\r\n*20\r\n"); // 4 + 4 + 20 * 3 + 3 > 64

    resp_scanner scanner(1024);
    EXPECT_EQ(scanner.scan(bytes_of("$1015\r\n")).st, status::need_more);
    const std::string fits = "$1015\r\n" + std::string(1015, 'x') + "\r\n";
    const scan_result r = scanner.scan(bytes_of(fits));
    ASSERT_EQ(r.st, status::complete);
    EXPECT_EQ(r.consumed, 1024u);
    EXPECT_EQ(scanner.scan(bytes_of("*339\r\n")).st, status::need_more); // 6 + 1017 = 1023
}

TEST(RespScanner, SimpleLineLongerThanTheBoundFailsWithoutItsCrlf) {
    // "+" and 61 bytes and CRLF is 64 bytes: the longest simple string that fits in 64.
    const std::string longest = "+" + std::string(61, 'a') + "\r\n";
    resp_scanner scanner(64);
    const scan_result ok = scanner.scan(bytes_of(longest));
    ASSERT_EQ(ok.st, status::complete);
    EXPECT_EQ(ok.consumed, 64u);

    const std::string longer = "+" + std::string(62, 'a');
    EXPECT_EQ(scanner.scan(bytes_of(longer.substr(0, 62))).st, status::need_more);
    const scan_result r = scanner.scan(bytes_of(longer));
    ASSERT_EQ(r.st, status::error);
    EXPECT_EQ(r.ec, make_error_code(error::frame_too_large));
    // The same for a simple error nested in an array, and for a big number.
    resp_scanner nested(64);
    EXPECT_EQ(nested.scan(bytes_of("*1\r\n-" + std::string(100, 'e'))).ec,
              make_error_code(error::frame_too_large));
    EXPECT_EQ(nested.scan(bytes_of("(" + std::string(100, '9'))).ec,
              make_error_code(error::frame_too_large));
}

TEST(RespScanner, ResetForgetsAPartialReply) {
    resp_scanner scanner;
    EXPECT_EQ(scanner.scan(bytes_of("*3\r\n$5\r\nhel")).st, status::need_more);
    scanner.reset();
    const scan_result r = scanner.scan(bytes_of("+OK\r\n"));
    ASSERT_EQ(r.st, status::complete);
    EXPECT_EQ(r.consumed, 5u);
    EXPECT_EQ(r.kind, reply_kind::simple_string);
}

TEST(RespScanner, ScannerIsReadyAgainAfterAnError) {
    resp_scanner scanner;
    EXPECT_EQ(scanner.scan(bytes_of("*2\r\n#x\r\n")).st, status::error);
    const scan_result r = scanner.scan(bytes_of(":7\r\n"));
    ASSERT_EQ(r.st, status::complete);
    EXPECT_EQ(r.consumed, 4u);
}

} // namespace
} // namespace heartbeat::resp
