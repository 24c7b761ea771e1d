#include <heartbeat/core/log_sink.hpp>

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace heartbeat;

TEST(LogSink, EmptySinkIsSilent) {
    log_sink sink;
    log_to(sink, log_level::error, "nobody hears this", {{"k", "v"}}); // must not throw
    SUCCEED();
}

TEST(LogSink, RecordCarriesLevelMessageAndFields) {
    std::vector<std::string> lines;
    log_sink sink = [&](const log_record& r) { lines.push_back(format_logfmt(r)); };
    log_to(sink, log_level::warning, "invalid config",
           {{"field", "monitor_config.interval"}, {"value", "0ms"}, {"reason", "must be > 0"}});
    ASSERT_EQ(lines.size(), 1u);
    EXPECT_EQ(lines[0], R"(level=warning msg="invalid config" field=monitor_config.interval )"
                        R"(value=0ms reason="must be > 0")");
}

TEST(LogSink, LogfmtQuotesAndEscapes) {
    const log_field fields[] = {{"empty", ""}, {"q", "a\"b\\c"}, {"nl", "x\ny"}};
    const auto line = format_logfmt(log_record{log_level::debug, "m", fields});
    EXPECT_EQ(line, R"(level=debug msg=m empty="" q="a\"b\\c" nl="x\ny")");
}

} // namespace
