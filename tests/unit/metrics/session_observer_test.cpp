// session_observer on a fake timeline: what reaches the metrics series and the log sink for the
// monitor's steps (connected, suspect, alive, dead) and the ending.
#include "../core/monitor_test_config.hpp"

#include <heartbeat/protocol/native/session_config.hpp>
#include <heartbeat/session/session_observer.hpp>

#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

namespace {

using namespace heartbeat;
using namespace std::chrono_literals;

std::shared_ptr<const metrics::series_labels> labels(std::string role, std::string protocol,
                                                     std::string endpoint, std::string peer) {
    return std::make_shared<const metrics::series_labels>(metrics::series_labels{
        std::move(role), std::move(protocol), std::move(endpoint), std::move(peer)});
}

struct logged {
    log_level level;
    std::string message;
    std::map<std::string, std::string> fields;
};

struct harness {
    session_config config;
    std::vector<logged> records;
    std::shared_ptr<metrics::registry> registry = metrics::registry::create();

    harness() {
        config.heartbeat = test::base_config(); // budget 2500 ms
        config.metrics = registry;
        config.metrics_labels = labels("client", "", "tcp://h:1", "");
        config.log = [this](const log_record& r) {
            logged l{r.level, std::string(r.message), {}};
            for (const auto& f : r.fields)
                l.fields[std::string(f.key)] = std::string(f.value);
            records.push_back(std::move(l));
        };
    }
    const metrics::series_snapshot& series() {
        snap = registry->snapshot();
        return snap.series.at(0);
    }
    metrics::metrics_snapshot snap;
};

// Connected, one ping answered, then silence until the verdict.
TEST(SessionObserver, ReportsLifeAndDeathToSeriesAndLog) {
    harness h;
    heartbeat_monitor monitor(h.config.heartbeat, [] { return 0.5; });
    detail::session_observer observer(h.config, "native");
    time_point now{seconds(50)};
    const auto step = [&](auto&& f) {
        const peer_state before = monitor.state();
        observer.after_step(f(), before, monitor, now);
    };
    observer.started();
    EXPECT_EQ(h.series().state, metrics::endpoint_state::connecting);
    observer.opened();
    step([&] { return monitor.start(now); });
    EXPECT_EQ(h.series().labels.protocol, "native"); // filled in from the session's own
    EXPECT_EQ(h.series().sessions_open, 1);
    EXPECT_EQ(h.series().state, metrics::endpoint_state::alive);

    now = monitor.next_deadline();
    std::uint64_t seq = 0;
    step([&] {
        auto s = monitor.on_timer(now);
        seq = s.send_ping;
        return s;
    });
    ASSERT_NE(seq, 0u);
    monitor.on_ping_written(seq, now);
    now += 7ms;
    step([&] { return monitor.on_pong(seq, now); });
    EXPECT_EQ(h.series().pongs_received, 1u);
    ASSERT_TRUE(h.series().last_rtt_seconds);
    EXPECT_DOUBLE_EQ(*h.series().last_rtt_seconds, 0.007);

    const time_point last_life = now;
    bool dead = false;
    for (int i = 0; i < 20 && !dead; ++i) {
        now = monitor.next_deadline();
        step([&] {
            auto s = monitor.on_timer(now);
            if (s.send_ping)
                monitor.on_ping_written(s.send_ping, now);
            dead = s.dead.has_value();
            return s;
        });
    }
    ASSERT_TRUE(dead);
    observer.ended(make_error_code(error::peer_dead), monitor.state());

    const auto& s = h.series();
    EXPECT_EQ(s.state, metrics::endpoint_state::dead);
    EXPECT_EQ(s.sessions_open, 0);
    EXPECT_EQ(s.pongs_missed, 3u);
    EXPECT_EQ(s.verdicts.at(0).reason, "peer_dead");
    EXPECT_EQ(s.verdicts.at(0).count, 1u);
    ASSERT_EQ(s.detection_seconds.count(), 1u);
    EXPECT_NEAR(s.detection_seconds.sum_seconds,
                std::chrono::duration<double>(now - last_life).count(), 1e-9);

    std::vector<std::string> messages;
    for (const auto& r : h.records)
        messages.push_back(r.message);
    EXPECT_EQ(messages, (std::vector<std::string>{"connected", "suspect", "dead", "closed"}));
    EXPECT_EQ(h.records[1].fields["from"], "alive");
    EXPECT_EQ(h.records[1].fields["to"], "suspect");
    EXPECT_EQ(h.records[1].fields["endpoint"], "tcp://h:1");
    EXPECT_EQ(h.records[2].level, log_level::warning);
    EXPECT_EQ(h.records[2].fields["missed"], "3");
    EXPECT_EQ(h.records[2].fields["silence"], config_value_text(now - last_life));
    EXPECT_EQ(h.records[3].fields["reason"], "peer_dead");
}

TEST(SessionObserver, ServerSeriesKeepNoState) {
    harness h;
    h.config.metrics_labels = labels("server", "native", "", "10.1.2.3");
    detail::session_observer observer(h.config, "native");
    observer.started();
    observer.opened();
    EXPECT_EQ(h.series().state, metrics::endpoint_state::unknown);
    EXPECT_EQ(h.series().sessions_open, 1);
    observer.ended(make_error_code(error::peer_closed), peer_state::alive);
    EXPECT_EQ(h.series().state, metrics::endpoint_state::unknown);
    std::uint64_t verdicts = 0;
    for (const auto& v : h.series().verdicts)
        verdicts += v.count;
    EXPECT_EQ(verdicts, 0u); // a close is not a verdict
}

TEST(SessionObserver, InvalidConfigNamesFieldValueAndReason) {
    session_config c;
    c.heartbeat.interval = 0ms;
    std::vector<logged> records;
    c.log = [&](const log_record& r) {
        logged l{r.level, std::string(r.message), {}};
        for (const auto& f : r.fields)
            l.fields[std::string(f.key)] = std::string(f.value);
        records.push_back(std::move(l));
    };
    const auto e = validate(c);
    ASSERT_TRUE(e);
    detail::session_observer::invalid_config(c.log, *e);
    ASSERT_EQ(records.size(), 1u);
    EXPECT_EQ(records[0].level, log_level::error);
    EXPECT_EQ(records[0].fields["field"], "session_config.heartbeat.interval");
    EXPECT_EQ(records[0].fields["value"], "0ms");
    EXPECT_EQ(records[0].fields["reason"], "must be > 0");
}

} // namespace
