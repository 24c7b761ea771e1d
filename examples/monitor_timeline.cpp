// A heartbeat monitor deciding ping / suspect / dead on a simulated timeline: a healthy peer
// that answers in 12 ms, then a 5 s stall of our own process that must not kill it, then a
// peer that freezes. No sockets, no sleeps: the sans-io core runs on a fake clock.
#include <heartbeat/core/heartbeat_monitor.hpp>

#include <cstdio>

using namespace std::chrono_literals;
namespace hb = heartbeat;

namespace {
long ms(hb::time_point t) {
    return static_cast<long>(
        std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count());
}
} // namespace

int main() {
    hb::monitor_config config;
    config.interval = 1s;
    config.pong_timeout = 500ms;
    config.max_missed = 3;
    config.jitter = 0.1;
    hb::heartbeat_monitor monitor(config, hb::seeded_uniform_source(7));
    std::printf("budget: interval %lld ms + %u x pong_timeout %lld ms = %lld ms\n",
                static_cast<long long>(config.interval / 1ms), config.max_missed,
                static_cast<long long>(config.pong_timeout / 1ms),
                static_cast<long long>(hb::silence_budget(config) / 1ms));

    const hb::time_point t0{};
    const hb::time_point stall_at = t0 + 4200ms, freeze_at = t0 + 12s;
    bool stalled = false;
    monitor.start(t0);
    std::printf("%6ld ms  connected, state %s\n", 0L, hb::to_string(monitor.state()));
    for (int i = 0; i < 1000 && monitor.state() != hb::peer_state::dead; ++i) {
        hb::time_point now = monitor.next_deadline();
        if (!stalled && now > stall_at) {
            now += 5s; // our event loop was blocked: the timer runs 5 s late
            stalled = true;
        }
        const hb::monitor_step step = monitor.on_timer(now);
        if (step.stall_lag > hb::duration::zero())
            std::printf("%6ld ms  local stall of %lld ms forgiven, re-pinging\n", ms(now),
                        static_cast<long long>(step.stall_lag / 1ms));
        if (step.state_changed)
            std::printf("%6ld ms  state -> %s (missed %u)\n", ms(now), hb::to_string(step.state),
                        monitor.missed());
        if (step.dead) {
            std::printf("%6ld ms  verdict: peer dead after %lld ms of silence, %u pings missed\n",
                        ms(now), static_cast<long long>(step.dead->silence / 1ms),
                        step.dead->missed);
            break;
        }
        if (step.send_ping) {
            monitor.on_ping_written(step.send_ping, now);
            if (now < freeze_at) {
                const auto pong = monitor.on_pong(step.send_ping, now + 12ms);
                std::printf("%6ld ms  ping %llu -> pong, rtt %lld ms\n", ms(now),
                            static_cast<unsigned long long>(step.send_ping),
                            static_cast<long long>(*pong.rtt / 1ms));
            } else {
                std::printf("%6ld ms  ping %llu -> (peer frozen, no reply)\n", ms(now),
                            static_cast<unsigned long long>(step.send_ping));
            }
        }
    }
    const bool ok = monitor.state() == hb::peer_state::dead && monitor.counters().stalls == 1;
    std::printf("%s\n", ok ? "OK: stall forgiven, frozen peer detected" : "UNEXPECTED OUTCOME");
    return ok ? 0 : 1;
}
