#include "duration_arg.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using heartbeat::cli::parse_duration;
using namespace std::chrono_literals;

TEST(DurationArg, AcceptsMillisecondsSecondsAndMinutes) {
    EXPECT_EQ(parse_duration("250ms"), 250ms);
    EXPECT_EQ(parse_duration("1s"), 1s);
    EXPECT_EQ(parse_duration("2m"), 2min);
    EXPECT_EQ(parse_duration("0ms"), 0ms);
    EXPECT_EQ(parse_duration("007s"), 7s);
}

TEST(DurationArg, AcceptsDecimalFractionsExactly) {
    EXPECT_EQ(parse_duration("1.5s"), 1500ms);
    EXPECT_EQ(parse_duration("0.25m"), 15s);
    EXPECT_EQ(parse_duration(".5s"), 500ms);
    EXPECT_EQ(parse_duration("0.001s"), 1ms);
    EXPECT_EQ(parse_duration("1.5ms"), 1500us);
    EXPECT_EQ(parse_duration("0.000000001s"), 1ns);
    EXPECT_EQ(parse_duration("1.0000000001s"), 1s); // below a nanosecond: rounded away
}

TEST(DurationArg, RejectsMissingOrUnknownUnits) {
    for (const char* bad : {"250", "1h", "1d", "1us", "1ns", "1S", "1MS", "1 s", "1sec", "s"})
        EXPECT_THROW(parse_duration(bad), std::invalid_argument) << bad;
}

TEST(DurationArg, RejectsMalformedNumbers) {
    for (const char* bad : {"", "abc", "-1s", "+1s", "1.s", ".s", "1..5s", "1e3ms", " 1s", "1s ",
                            "0x10s", "1,5s", "nan s", "infs"})
        EXPECT_THROW(parse_duration(bad), std::invalid_argument) << '"' << bad << '"';
}

TEST(DurationArg, RejectsValuesThatOverflow) {
    EXPECT_THROW(parse_duration("99999999999999999999m"), std::invalid_argument);
    EXPECT_THROW(parse_duration("9999999999999m"), std::invalid_argument);
    EXPECT_NO_THROW(parse_duration("100000m"));
}

TEST(DurationArg, ErrorMessageQuotesTheInputAndNamesTheUnits) {
    try {
        parse_duration("abc");
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        EXPECT_STREQ(e.what(),
                     "invalid duration 'abc' (use ms, s or m suffix, e.g. 250ms, 1.5s, 2m)");
    }
}

TEST(DurationArg, ErrorMessageStaysOnOneLine) {
    try {
        parse_duration("1\n2s");
        FAIL() << "no exception";
    } catch (const std::invalid_argument& e) {
        const std::string what = e.what();
        EXPECT_EQ(what.find('\n'), std::string::npos) << what;
        EXPECT_NE(what.find(R"('1\x0a2s')"), std::string::npos) << what;
    }
}
