#include "json_events.hpp"

#include <gtest/gtest.h>

using namespace heartbeat::cli;

namespace {
std::string json_string(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}
} // namespace

TEST(JsonEvents, LineStartsWithTimeAndEventThenFieldsInOrder) {
    const auto e = event_line("dead")
                       .subject("endpoint", "127.0.0.1:7000")
                       .field("reason", "peer_dead")
                       .field("missed", 3)
                       .field("silent_ms", 805);
    EXPECT_EQ(to_json(e, 1234), "{\"t_ms\":1234,\"event\":\"dead\",\"endpoint\":\"127.0.0.1:7000\","
                                "\"reason\":\"peer_dead\",\"missed\":3,\"silent_ms\":805}");
}

TEST(JsonEvents, EscapesQuotesBackslashesAndControlCharacters) {
    EXPECT_EQ(json_string("a\"b\\c"), R"("a\"b\\c")");
    EXPECT_EQ(json_string("\n\r\t\b\f"), R"("\n\r\t\b\f")");
    EXPECT_EQ(json_string(std::string_view("\x01\x1f\0", 3)), R"("\u0001\u001f\u0000")");
    EXPECT_EQ(json_string("/"), R"("/")");
}

TEST(JsonEvents, KeepsValidUtf8AndReplacesInvalidBytes) {
    EXPECT_EQ(json_string("h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x92\x93"),
              "\"h\xC3\xA9llo \xE2\x82\xAC \xF0\x9F\x92\x93\"");
    EXPECT_EQ(json_string("\xFF"), R"("\ufffd")");
    EXPECT_EQ(json_string("\xC3"), R"("\ufffd")");                     // truncated sequence
    EXPECT_EQ(json_string("\xC0\xAF"), R"("\ufffd\ufffd")");           // overlong '/'
    EXPECT_EQ(json_string("\xED\xA0\x80"), R"("\ufffd\ufffd\ufffd")"); // UTF-16 surrogate
    EXPECT_EQ(json_string("\xF4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")"); // > U+10FFFF
}

TEST(JsonEvents, TextViewShowsTimeSubjectNameAndSummary) {
    const auto e = event_line("closed")
                       .subject("endpoint", "127.0.0.1:7000")
                       .field("reason", "connection_refused");
    const auto line = to_text(e, 12345);
    EXPECT_NE(line.find("12.345s"), std::string::npos) << line;
    EXPECT_NE(line.find("127.0.0.1:7000"), std::string::npos) << line;
    EXPECT_NE(line.find("reason=connection_refused"), std::string::npos) << line;
    EXPECT_EQ(line.find("endpoint="), std::string::npos) << line;
    EXPECT_NE(to_text(event_line("x").summary("custom words"), 0).find("custom words"),
              std::string::npos);
}

TEST(JsonEvents, TextViewKeepsASpaceAfterALongEventName) {
    EXPECT_EQ(to_text(event_line("http_listening").summary("status page"), 0),
              "       0.000s                         http_listening status page");
    EXPECT_EQ(to_text(event_line("closed").summary("why"), 0),
              "       0.000s                         closed        why");
}

TEST(JsonEvents, WriterEmitsOneFlushedLinePerEvent) {
    char* buf = nullptr;
    std::size_t size = 0;
    std::FILE* f = open_memstream(&buf, &size);
    ASSERT_NE(f, nullptr);
    {
        event_writer w(f, output_format::json);
        w.emit(event_line("listening").field("address", "127.0.0.1:1"));
        // Flushed per line: visible without closing the stream.
        EXPECT_NE(std::string(buf, size).find("\"event\":\"listening\""), std::string::npos);
        w.emit(event_line("peer_connected").subject("peer", "127.0.0.1:2"));
    }
    std::fclose(f);
    const std::string out(buf, size);
    std::free(buf);
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 2);
    EXPECT_EQ(out.rfind("{\"t_ms\":", 0), 0u);
}

TEST(JsonEvents, WriterStampsALineWithItsEventTimeNeverBeforeTheStart) {
    char* buf = nullptr;
    std::size_t size = 0;
    std::FILE* f = open_memstream(&buf, &size);
    ASSERT_NE(f, nullptr);
    {
        const heartbeat::time_point start = heartbeat::clock::now() - std::chrono::hours(1);
        event_writer w(f, output_format::json, start);
        w.emit(event_line("reconnecting").at(start + std::chrono::microseconds(1'234'999)));
        w.emit(event_line("closed").at(start - std::chrono::seconds(5)));
    }
    std::fclose(f);
    const std::string out(buf, size);
    std::free(buf);
    EXPECT_EQ(out, "{\"t_ms\":1234,\"event\":\"reconnecting\"}\n"
                   "{\"t_ms\":0,\"event\":\"closed\"}\n");
}
