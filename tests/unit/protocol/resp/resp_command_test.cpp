#include <heartbeat/protocol/resp/resp_command.hpp>

#include <heartbeat/core/error.hpp>
#include <heartbeat/protocol/resp/resp_scanner.hpp>
#include <heartbeat/protocol/resp/resp_value.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace heartbeat::resp {
namespace {

using namespace std::string_literals;

template <class... Args>
concept encodable = requires(const Args&... args) {
    command(args...);
};

// Characters and booleans are refused at compile time: "A" or 65? "true" or 1?
static_assert(encodable<char[5], std::string, int, std::string_view, std::uint64_t>);
static_assert(!encodable<char[4], char>);
static_assert(!encodable<char[4], bool>);
static_assert(!encodable<>);
static_assert(!encodable<char[4], double>);

std::optional<command_info> inspect(std::string_view bytes) {
    boost::system::error_code ec = error::peer_dead; // must be overwritten
    std::optional<command_info> info = inspect_command(bytes, ec);
    EXPECT_EQ(info.has_value(), !ec) << bytes;
    if (!info) {
        EXPECT_EQ(ec, make_error_code(error::invalid_message)) << bytes;
    }
    return info;
}

TEST(RespCommand, EncodesAnArrayOfBulkStrings) {
    EXPECT_EQ(command("PING"), "*1\r\n$4\r\nPING\r\n");
    EXPECT_EQ(command("INCR", "counter"), "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n");
    const std::string key = "k";
    EXPECT_EQ(command("SET", key, 42), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\n42\r\n");
    EXPECT_EQ(command("X", std::numeric_limits<std::int64_t>::min(),
                      std::numeric_limits<std::uint64_t>::max(), short{-3}, std::string_view("")),
              "*5\r\n$1\r\nX\r\n$20\r\n-9223372036854775808\r\n$20\r\n18446744073709551615\r\n"
              "$2\r\n-3\r\n$0\r\n\r\n");
    EXPECT_EQ(command({"GET", "key"}), "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n");
}

TEST(RespCommand, AppendCommandPipelines) {
    std::string out = "prefix";
    append_command(out, "PING");
    append_command(out, {"ECHO", "hi"});
    append_command(out, "EXPIRE", "k", 10u);
    EXPECT_EQ(out, "prefix*1\r\n$4\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n"
                   "*3\r\n$6\r\nEXPIRE\r\n$1\r\nk\r\n$2\r\n10\r\n");
}

TEST(RespCommand, AnEmptyCommandIsRefused) {
    std::string out;
    EXPECT_THROW(append_command(out, std::initializer_list<std::string_view>{}),
                 std::invalid_argument);
    EXPECT_THROW(command(std::initializer_list<std::string_view>{}), std::invalid_argument);
    EXPECT_TRUE(out.empty());
}

TEST(RespCommand, BinarySafeArgumentsRoundTrip) {
    const std::vector<std::string> args = {"set", "key\r\nwith\0nul"s,    "\r\n"s, ""s,
                                           "\0"s, std::string(1000, '\n')};
    const std::string bytes = command(args[0], args[1], args[2], args[3], args[4], args[5]);

    resp_scanner scanner;
    const scan_result scanned =
        scanner.scan(std::span(reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
    ASSERT_EQ(scanned.st, scan_result::status::complete);
    EXPECT_EQ(scanned.consumed, bytes.size());
    EXPECT_EQ(scanned.kind, reply_kind::array);

    boost::system::error_code ec;
    const std::optional<value> parsed = parse_value(bytes, ec);
    ASSERT_TRUE(parsed) << ec.message();
    ASSERT_EQ(parsed->elements.size(), args.size());
    for (std::size_t i = 0; i < args.size(); ++i) {
        EXPECT_EQ(parsed->elements[i].kind, reply_kind::bulk_string);
        EXPECT_EQ(parsed->elements[i].string, args[i]) << "argument " << i;
    }

    const std::optional<command_info> info = inspect(bytes);
    ASSERT_TRUE(info);
    EXPECT_EQ(info->name, "SET");
    EXPECT_EQ(info->arguments, 6u);
}

TEST(RespCommand, InspectUpperCasesTheName) {
    const auto info = inspect(command("cLiEnt", "setname", "x-1"));
    ASSERT_TRUE(info);
    EXPECT_EQ(info->name, "CLIENT");
    EXPECT_EQ(info->arguments, 3u);
    EXPECT_EQ(inspect(command("ping"))->name, "PING");
    EXPECT_EQ(inspect("*1\r\n$0\r\n\r\n")->name, ""); // an empty name is still one command
}

TEST(RespCommand, InspectAcceptsOnlyOneCompleteArrayOfBulkStrings) {
    const std::string ping = command("PING");
    const std::string invalid[] = {
        "",
        "PING\r\n",                        // inline command
        ping + ping,                       // two commands
        ping + "x",                        // trailing byte
        "*0\r\n",                          // empty array
        "*-1\r\n",                         // null array
        "*1\r\n:1\r\n",                    // non-bulk element
        "*1\r\n+PING\r\n",                 // simple string element
        "*1\r\n$-1\r\n",                   // null element
        "*2\r\n$4\r\nPING\r\n",            // fewer elements than announced
        "*1\r\n$5\r\nPING\r\n",            // length longer than the payload
        "*1\r\n$3\r\nPING\r\n",            // length shorter than the payload
        "*1\r\n$4\r\nPINGxx",              // no CRLF after the payload
        "*1\r\n$+4\r\nPING\r\n",           // signed length
        "*+1\r\n$4\r\nPING\r\n",           // signed count
        "*1\n$4\r\nPING\r\n",              // LF without CR
        "*1\r\n*1\r\n$4\r\nPING\r\n",      // nested array
        "*99999999999999999999999\r\n",    // absurd count
        "*1\r\n$99999999999999999999\r\n", // absurd length
    };
    for (const auto& bytes : invalid) {
        EXPECT_FALSE(inspect(bytes)) << bytes;
    }
    // Every strict prefix of a valid command is rejected.
    const std::string set = command("SET", "key", "value");
    for (std::size_t length = 0; length < set.size(); ++length) {
        EXPECT_FALSE(inspect(std::string_view(set).substr(0, length))) << length;
    }
    EXPECT_TRUE(inspect(set));
}

TEST(RespCommand, ExpectedRepliesAndSupport) {
    const auto info_of = [](std::string_view name) {
        return inspect(command(name, "channel")).value();
    };
    for (const char* name :
         {"subscribe", "PSUBSCRIBE", "SSUBSCRIBE", "UNSUBSCRIBE", "PUNSUBSCRIBE", "SUNSUBSCRIBE"}) {
        const command_info c = info_of(name);
        EXPECT_EQ(expected_replies(c, true), 0u) << name;
        EXPECT_EQ(expected_replies(c, false), 1u) << name;
        EXPECT_FALSE(supported_in_resp2(c)) << name;
        EXPECT_TRUE(supported_in_resp3(c)) << name;
    }
    for (const char* name : {"GET", "PUBLISH", "PING", "EXEC", "BLPOP", "SUBSCRIBED"}) {
        const command_info c = info_of(name);
        EXPECT_EQ(expected_replies(c, true), 1u) << name;
        EXPECT_EQ(expected_replies(c, false), 1u) << name;
        EXPECT_TRUE(supported_in_resp2(c)) << name;
        EXPECT_TRUE(supported_in_resp3(c)) << name;
    }
    // Without a channel, SUBSCRIBE gets an ordinary error reply; UNSUBSCRIBE means "all".
    for (const char* name : {"SUBSCRIBE", "psubscribe", "SSUBSCRIBE"}) {
        EXPECT_EQ(expected_replies(inspect(command(name)).value(), true), 1u) << name;
    }
    for (const char* name : {"UNSUBSCRIBE", "punsubscribe", "SUNSUBSCRIBE"}) {
        EXPECT_EQ(expected_replies(inspect(command(name)).value(), true), 0u) << name;
    }
    const command_info monitor = info_of("monitor");
    EXPECT_FALSE(supported_in_resp2(monitor));
    EXPECT_FALSE(supported_in_resp3(monitor));
}

} // namespace
} // namespace heartbeat::resp
