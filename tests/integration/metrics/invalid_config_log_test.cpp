// An invalid config is logged with the field that is wrong, its value and why, where async_run
// reports error::invalid_config: a native session and the client supervisor.
#include "client_test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/protocol/native/native_session.hpp>

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

using namespace heartbeat;
using namespace std::chrono_literals;
namespace ht = heartbeat::test;
namespace cs = heartbeat::test::client_support;
namespace asio = boost::asio;

namespace {

struct record {
    log_level level;
    std::string message;
    std::map<std::string, std::string> fields;
};

struct record_log {
    std::vector<record> records;
    log_sink sink() {
        return [this](const log_record& r) {
            record x{r.level, std::string(r.message), {}};
            for (const auto& f : r.fields)
                x.fields[std::string(f.key)] = std::string(f.value);
            records.push_back(std::move(x));
        };
    }
};

TEST(InvalidConfigLog, SessionLogsFieldValueAndReason) {
    asio::io_context ioc;
    auto [a, b] = ht::tcp_pair(ioc);
    session_config cfg;
    cfg.heartbeat.interval = 0ms;
    record_log log;
    cfg.log = log.sink();
    tcp_session s(std::move(a), cfg);
    bool done = false;
    boost::system::error_code reason;
    s.async_run([&](boost::system::error_code ec) { reason = ec, done = true; });
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return done; }, 5s));
    EXPECT_EQ(reason, error::invalid_config);
    ASSERT_EQ(log.records.size(), 1u);
    const auto& r = log.records[0];
    EXPECT_EQ(r.level, log_level::error);
    EXPECT_EQ(r.message, "invalid config");
    EXPECT_EQ(r.fields.at("field"), "session_config.heartbeat.interval");
    EXPECT_EQ(r.fields.at("value"), "0ms");
    EXPECT_EQ(r.fields.at("reason"), "must be > 0");
}

TEST(InvalidConfigLog, ClientLogsTheFieldByItsPathInClientConfig) {
    asio::io_context ioc;
    client_config cfg;
    cfg.session.heartbeat.max_missed = 0;
    record_log log;
    cfg.log = log.sink();
    client c(ioc.get_executor(), {cs::local_endpoint_for(cs::unused_port())}, cfg);
    bool done = false;
    boost::system::error_code reason;
    c.async_run([&](boost::system::error_code ec) { reason = ec, done = true; });
    ASSERT_TRUE(ht::run_until(
        ioc, [&] { return done; }, 5s));
    EXPECT_EQ(reason, error::invalid_config);
    ASSERT_FALSE(log.records.empty());
    const auto& r = log.records[0];
    EXPECT_EQ(r.message, "invalid config");
    EXPECT_EQ(r.fields.at("field"), "client_config.session.heartbeat.max_missed");
    EXPECT_EQ(r.fields.at("value"), "0");
    EXPECT_EQ(r.fields.at("reason"), "must be in [1, 1000]");
}

} // namespace
