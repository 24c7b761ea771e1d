#include <heartbeat/protocol/resp/resp_value.hpp>

#include <heartbeat/core/error.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <string_view>

namespace heartbeat::resp {
namespace {

using namespace std::string_literals;

value parse_ok(std::string_view bytes) {
    boost::system::error_code ec = error::peer_dead; // must be cleared
    std::optional<value> v = parse_value(bytes, ec);
    EXPECT_FALSE(ec) << bytes << ": " << ec.message();
    EXPECT_TRUE(v.has_value()) << bytes;
    return v.value_or(value{});
}

std::string rendered(std::string_view bytes) {
    return to_string(parse_ok(bytes));
}

TEST(RespValue, Scalars) {
    value v = parse_ok("+OK\r\n");
    EXPECT_EQ(v.kind, reply_kind::simple_string);
    EXPECT_EQ(v.string, "OK");
    EXPECT_FALSE(v.is_error());

    v = parse_ok("-WRONGTYPE Operation against a key\r\n");
    EXPECT_EQ(v.kind, reply_kind::simple_error);
    EXPECT_EQ(v.string, "WRONGTYPE Operation against a key");
    EXPECT_TRUE(v.is_error());

    v = parse_ok("!9\r\nERR\r\nbad\0\r\n"s);
    EXPECT_EQ(v.kind, reply_kind::bulk_error);
    EXPECT_EQ(v.string, "ERR\r\nbad\0"s);
    EXPECT_TRUE(v.is_error());

    EXPECT_EQ(parse_ok(":-9223372036854775808\r\n").integer,
              std::numeric_limits<std::int64_t>::min());
    EXPECT_EQ(parse_ok(":+42\r\n").integer, 42);
    EXPECT_EQ(parse_ok(":42\r\n").kind, reply_kind::integer);

    v = parse_ok("$7\r\na\r\n\0b\nc\r\n"s);
    EXPECT_EQ(v.kind, reply_kind::bulk_string);
    EXPECT_EQ(v.string, "a\r\n\0b\nc"s);
    EXPECT_EQ(parse_ok("$0\r\n\r\n").string, "");

    v = parse_ok("=15\r\ntxt:Some string\r\n");
    EXPECT_EQ(v.kind, reply_kind::verbatim_string);
    EXPECT_EQ(v.format, "txt");
    EXPECT_EQ(v.string, "Some string");

    EXPECT_EQ(parse_ok("_\r\n").kind, reply_kind::null);
    EXPECT_EQ(parse_ok("$-1\r\n").kind, reply_kind::null);
    EXPECT_EQ(parse_ok("*-1\r\n").kind, reply_kind::null);

    EXPECT_TRUE(parse_ok("#t\r\n").boolean);
    EXPECT_FALSE(parse_ok("#f\r\n").boolean);
    EXPECT_EQ(parse_ok("#f\r\n").kind, reply_kind::boolean);

    v = parse_ok(",-1.5e3\r\n");
    EXPECT_EQ(v.kind, reply_kind::double_number);
    EXPECT_EQ(v.number, -1500.0);
    EXPECT_EQ(v.string, "-1.5e3");
    EXPECT_EQ(parse_ok(",+0.25\r\n").number, 0.25);
    EXPECT_EQ(parse_ok(",inf\r\n").number, std::numeric_limits<double>::infinity());
    EXPECT_EQ(parse_ok(",-inf\r\n").number, -std::numeric_limits<double>::infinity());
    EXPECT_TRUE(std::isnan(parse_ok(",nan\r\n").number));

    v = parse_ok("(-3492890328409238509324850943850943825024385\r\n");
    EXPECT_EQ(v.kind, reply_kind::big_number);
    EXPECT_EQ(v.string, "-3492890328409238509324850943850943825024385");
}

TEST(RespValue, NestedAggregates) {
    const value v = parse_ok("*3\r\n%2\r\n+k\r\n~2\r\n:1\r\n#t\r\n$2\r\nk2\r\n_\r\n"
                             ">2\r\n+message\r\n$2\r\nhi\r\n*0\r\n");
    ASSERT_EQ(v.kind, reply_kind::array);
    ASSERT_EQ(v.elements.size(), 3u);
    const value& map = v.elements[0];
    ASSERT_EQ(map.kind, reply_kind::map);
    ASSERT_EQ(map.elements.size(), 4u); // key, value, key, value
    EXPECT_EQ(map.elements[0].string, "k");
    ASSERT_EQ(map.elements[1].kind, reply_kind::set);
    ASSERT_EQ(map.elements[1].elements.size(), 2u);
    EXPECT_EQ(map.elements[1].elements[0].integer, 1);
    EXPECT_TRUE(map.elements[1].elements[1].boolean);
    EXPECT_EQ(map.elements[2].string, "k2");
    EXPECT_EQ(map.elements[3].kind, reply_kind::null);
    EXPECT_EQ(v.elements[1].kind, reply_kind::push);
    EXPECT_EQ(v.elements[1].elements[1].string, "hi");
    EXPECT_EQ(v.elements[2].kind, reply_kind::array);
    EXPECT_TRUE(v.elements[2].elements.empty());
}

TEST(RespValue, AttributesAttachToTheValueTheyPrecede) {
    const value top = parse_ok("|1\r\n+ttl\r\n:9\r\n|1\r\n+hot\r\n#t\r\n$1\r\nv\r\n");
    EXPECT_EQ(top.kind, reply_kind::bulk_string);
    EXPECT_EQ(top.string, "v");
    // Consecutive attribute maps merge.
    ASSERT_EQ(top.attributes.size(), 4u);
    EXPECT_EQ(top.attributes[0].string, "ttl");
    EXPECT_EQ(top.attributes[1].integer, 9);
    EXPECT_EQ(top.attributes[2].string, "hot");
    EXPECT_TRUE(top.attributes[3].boolean);

    const value nested = parse_ok("*2\r\n|1\r\n+key-popularity\r\n%1\r\n$1\r\na\r\n,0.1923\r\n"
                                  ":2039123\r\n:9543892\r\n");
    ASSERT_EQ(nested.elements.size(), 2u);
    EXPECT_TRUE(nested.attributes.empty());
    EXPECT_EQ(nested.elements[0].integer, 2039123);
    ASSERT_EQ(nested.elements[0].attributes.size(), 2u);
    EXPECT_EQ(nested.elements[0].attributes[0].string, "key-popularity");
    EXPECT_EQ(nested.elements[0].attributes[1].elements[1].number, 0.1923);
    EXPECT_TRUE(nested.elements[1].attributes.empty());
}

TEST(RespValue, RejectsAnythingButExactlyOneCompleteReply) {
    const std::string deepest = [] {
        std::string s;
        for (int i = 0; i < 64; ++i) {
            s += "*1\r\n";
        }
        return s + ":1\r\n";
    }();
    EXPECT_EQ(parse_ok(deepest).kind, reply_kind::array);
    const std::string invalid[] = {
        "",
        "$5\r\nhel",               // truncated
        "*2\r\n:1\r\n",            // truncated aggregate
        "+OK\r\n+OK\r\n",          // two replies
        "+OK\r\nx",                // trailing byte
        "#x\r\n",                  // malformed
        "$3\r\nabcd\r\n",          // payload longer than its length
        "$?\r\n;1\r\na\r\n;0\r\n", // streamed
        "*1\r\n" + deepest,        // depth 65
        "$999999999999\r\n",       // declares more than it holds
    };
    for (const auto& bytes : invalid) {
        boost::system::error_code ec;
        EXPECT_FALSE(parse_value(bytes, ec).has_value()) << bytes;
        EXPECT_EQ(ec, make_error_code(error::malformed_frame)) << bytes;
    }
}

TEST(RespValue, ToStringRendersOneLine) {
    EXPECT_EQ(rendered("+OK\r\n"), "OK");
    EXPECT_EQ(rendered("-ERR no such key\r\n"), "(error) ERR no such key");
    EXPECT_EQ(rendered("!3\r\nERR\r\n"), "(error) ERR");
    EXPECT_EQ(rendered(":-7\r\n"), "(integer) -7");
    EXPECT_EQ(rendered("$11\r\nsay \"hi\"\r\n\t\r\n"), R"("say \"hi\"\r\n\t")");
    EXPECT_EQ(rendered("$4\r\n\0\x7f\xff\\\r\n"s), R"("\x00\x7f\xff\\")");
    EXPECT_EQ(rendered("=7\r\nmkd:# a\r\n"), R"("# a")");
    EXPECT_EQ(rendered("_\r\n"), "(nil)");
    EXPECT_EQ(rendered("$-1\r\n"), "(nil)");
    EXPECT_EQ(rendered("#t\r\n"), "(true)");
    EXPECT_EQ(rendered("#f\r\n"), "(false)");
    EXPECT_EQ(rendered(",3.14\r\n"), "(double) 3.14");
    EXPECT_EQ(rendered("(12345678901234567890\r\n"), "(big number) 12345678901234567890");
    EXPECT_EQ(rendered("*2\r\n$1\r\na\r\n:1\r\n"), R"(["a", (integer) 1])");
    EXPECT_EQ(rendered("*0\r\n"), "[]");
    EXPECT_EQ(rendered("%2\r\n+k\r\n$1\r\nv\r\n+n\r\n_\r\n"), R"({k: "v", n: (nil)})");
    EXPECT_EQ(rendered("~1\r\n$1\r\na\r\n"), R"((set) ["a"])");
    EXPECT_EQ(rendered(">3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$2\r\nhi\r\n"),
              R"((push) ["message", "c", "hi"])");
    EXPECT_EQ(rendered("|1\r\n+ttl\r\n:9\r\n$1\r\nv\r\n"),
              R"((attributes {ttl: (integer) 9}) "v")");

    value built;
    built.kind = reply_kind::double_number;
    built.number = 0.5; // no text: rendered from the number
    EXPECT_EQ(to_string(built), "(double) 0.5");
}

} // namespace
} // namespace heartbeat::resp
