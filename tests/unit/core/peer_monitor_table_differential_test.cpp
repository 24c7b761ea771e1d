// peer_monitor_table against heartbeat_monitor, side by side: several peers share one table,
// each also has its own heartbeat_monitor, and both receive the same random inbound traffic,
// ping writes, pongs (timely, late, stale, unexpected), local stalls and re-adds. Every action
// (ping with its seq, suspect, alive, dead with missed, silence and stall) must be the same, at
// the same millisecond.
#include <heartbeat/core/heartbeat_monitor.hpp>
#include <heartbeat/core/peer_monitor_table.hpp>

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <sstream>
#include <vector>

namespace hb = heartbeat;
using namespace std::chrono_literals;

namespace {

struct decision {
    long t_ms;
    hb::peer_action_kind kind;
    std::uint64_t seq;
    unsigned missed;
    long silence_ms;
    long stalled_ms;
    bool operator==(const decision&) const = default;
};

std::ostream& operator<<(std::ostream& os, const decision& d) {
    return os << "{t=" << d.t_ms << " kind=" << static_cast<int>(d.kind) << " seq=" << d.seq
              << " missed=" << d.missed << " silence=" << d.silence_ms
              << " stalled=" << d.stalled_ms << "}";
}

long ms(hb::duration d) {
    return static_cast<long>(std::chrono::duration_cast<std::chrono::milliseconds>(d).count());
}

enum class input { inbound, pong, written };

struct scheduled {
    input what;
    std::uint32_t peer;
    std::uint64_t seq;
};

struct scenario {
    std::mt19937_64 rng;
    hb::monitor_config config;
    hb::time_point origin{};
    std::uint32_t peers = 6;
    std::vector<hb::heartbeat_monitor> monitors;
    std::vector<std::uint32_t> ids; // table id of each peer
    std::vector<std::vector<decision>> by_monitor, by_table;
    std::vector<bool> responsive;
    std::multimap<long, scheduled> inputs;

    explicit scenario(std::uint64_t seed) : rng(seed) {
        config.interval = std::chrono::milliseconds(100 + rng() % 1900);
        config.jitter = 0.0;
        config.pong_timeout = std::chrono::milliseconds(50 + rng() % 950);
        config.max_missed = 1 + static_cast<unsigned>(rng() % 5);
        config.stall_tolerance = std::chrono::milliseconds(20 + rng() % 280);
        config.probe_rtt_under_traffic = false; // the table keeps no RTT, so sends no probes
        config.liveness =
            rng() % 4 == 0 ? hb::liveness_mode::pong_only : hb::liveness_mode::any_inbound;
        by_monitor.resize(peers);
        by_table.resize(peers);
        responsive.assign(peers, true);
    }

    hb::time_point at(long t) const { return origin + std::chrono::milliseconds(t); }

    void record_monitor(std::uint32_t peer, long t, const hb::monitor_step& step) {
        if (step.send_ping) {
            by_monitor[peer].push_back(
                {t, hb::peer_action_kind::send_ping, step.send_ping, 0, 0, 0});
            react_to_ping(peer, t, step.send_ping);
        }
        if (!step.state_changed)
            return;
        decision d{t, hb::peer_action_kind::alive, 0, monitors[peer].missed(), 0, 0};
        if (step.state == hb::peer_state::suspect)
            d.kind = hb::peer_action_kind::suspect;
        if (step.state == hb::peer_state::dead) {
            d.kind = hb::peer_action_kind::dead;
            d.missed = step.dead->missed;
            d.silence_ms = ms(step.dead->silence);
            d.stalled_ms = ms(step.dead->stalled);
        }
        by_monitor[peer].push_back(d);
    }

    // The peer's side: the ping leaves after a write delay, a responsive peer answers it.
    void react_to_ping(std::uint32_t peer, long t, std::uint64_t seq) {
        const long written = t + (rng() % 3 == 0 ? static_cast<long>(rng() % 30) : 0);
        inputs.insert({written, {input::written, peer, seq}});
        if (responsive[peer]) {
            const long rtt = static_cast<long>(rng() % (ms(config.pong_timeout) * 3 / 2 + 1));
            inputs.insert({written + rtt, {input::pong, peer, seq}});
        }
    }

    void deliver(long t, const scheduled& in, hb::peer_monitor_table& table) {
        const std::uint32_t p = in.peer;
        auto& m = monitors[p];
        auto sink = [&](const hb::peer_action& a) { record_table(a); };
        switch (in.what) {
        case input::inbound:
            record_monitor(p, t, m.on_inbound(at(t)));
            table.on_inbound(ids[p], at(t), sink);
            break;
        case input::written:
            m.on_ping_written(in.seq, at(t));
            table.on_ping_written(ids[p], static_cast<std::uint32_t>(in.seq), at(t), sink);
            break;
        case input::pong: {
            const hb::monitor_step step = m.on_pong(in.seq, at(t));
            const auto ec = table.on_pong(ids[p], static_cast<std::uint32_t>(in.seq), at(t), sink);
            ASSERT_EQ(static_cast<bool>(step.error), static_cast<bool>(ec)) << "pong " << in.seq;
            if (!step.error)
                record_monitor(p, t, step);
            break;
        }
        }
    }

    void record_table(const hb::peer_action& a) {
        std::uint32_t peer = 0;
        while (peer < peers && ids[peer] != a.peer)
            ++peer;
        ASSERT_LT(peer, peers);
        by_table[peer].push_back(
            {ms(a.at - origin), a.kind, a.seq, a.missed, ms(a.silence), ms(a.stalled)});
    }
};

struct coverage {
    std::map<hb::peer_action_kind, int> kinds;
    int stalls = 0;
    int readds = 0;
};

void run_scenario(std::uint64_t seed, coverage& cover) {
    scenario s(seed);
    hb::peer_monitor_table table(s.config, s.peers, s.origin);
    for (std::uint32_t p = 0; p < s.peers; ++p) {
        s.monitors.emplace_back(s.config);
        s.monitors.back().start(s.at(0));
        s.ids.push_back(*table.add(s.at(0)));
    }
    const long end = 40000;
    long stalled_until = -1;
    for (long t = 0; t <= end; ++t) {
        if (t < stalled_until)
            continue; // our process is not running: no timers, nothing read
        if (stalled_until < 0 && s.rng() % 6000 == 0) {
            stalled_until = t + 50 + static_cast<long>(s.rng() % 2500);
            ++cover.stalls;
        } else
            stalled_until = -1;
        if (stalled_until > t)
            continue;
        // Timers first, then what arrived up to now.
        for (std::uint32_t p = 0; p < s.peers; ++p) {
            if (s.monitors[p].next_deadline() <= s.at(t))
                s.record_monitor(p, t, s.monitors[p].on_timer(s.at(t)));
        }
        table.advance(s.at(t), [&](const hb::peer_action& a) { s.record_table(a); });
        while (!s.inputs.empty() && s.inputs.begin()->first <= t) {
            const scheduled in = s.inputs.begin()->second;
            s.inputs.erase(s.inputs.begin());
            s.deliver(t, in, table);
            if (testing::Test::HasFatalFailure())
                return;
        }
        // The peers' own behaviour: data now and then, freezes and recoveries, stray pongs.
        for (std::uint32_t p = 0; p < s.peers; ++p) {
            const std::uint64_t roll = s.rng() % 100000;
            if (roll < 40 && s.responsive[p])
                s.inputs.insert({t + 1, {input::inbound, p, 0}});
            else if (roll < 45)
                s.responsive[p] = !s.responsive[p];
            else if (roll < 47)
                s.inputs.insert({t + 1,
                                 {input::pong, p,
                                  1 + s.rng() % (1 + s.monitors[p].counters().pings_sent + 1)}});
            else if (roll < 48 && s.monitors[p].state() == hb::peer_state::dead) {
                // A dead peer reconnects: a fresh monitor, and the table reuses an id.
                table.remove(s.ids[p]);
                s.monitors[p] = hb::heartbeat_monitor(s.config);
                s.monitors[p].start(s.at(t));
                s.ids[p] = *table.add(s.at(t));
                s.by_monitor[p].push_back({t, hb::peer_action_kind::alive, 0, 0, 0, 0});
                s.by_table[p].push_back({t, hb::peer_action_kind::alive, 0, 0, 0, 0});
                ++cover.readds;
            }
        }
    }
    for (std::uint32_t p = 0; p < s.peers; ++p) {
        ASSERT_EQ(s.by_table[p], s.by_monitor[p]) << "seed " << seed << " peer " << p;
        for (const auto& d : s.by_monitor[p])
            ++cover.kinds[d.kind];
    }
}

} // namespace

TEST(PeerMonitorTableDifferential, SameDecisionsAsHeartbeatMonitorOnRandomSchedules) {
    coverage cover;
    for (std::uint64_t seed = 1; seed <= 40; ++seed) {
        run_scenario(seed, cover);
        if (HasFatalFailure())
            return;
    }
    // The schedules must reach every decision, or agreeing on them proves little.
    EXPECT_GT(cover.kinds[hb::peer_action_kind::send_ping], 1000);
    EXPECT_GT(cover.kinds[hb::peer_action_kind::suspect], 50);
    EXPECT_GT(cover.kinds[hb::peer_action_kind::alive], 50);
    EXPECT_GT(cover.kinds[hb::peer_action_kind::dead], 20);
    EXPECT_GT(cover.stalls, 20);
    EXPECT_GT(cover.readds, 5);
}
