// Cost of one heartbeat-monitor step: the per-frame path (on_inbound) and a full ping cycle.
#include <heartbeat/core/heartbeat_monitor.hpp>

#include <benchmark/benchmark.h>

using namespace std::chrono_literals;
namespace hb = heartbeat;

static void BM_MonitorOnInbound(benchmark::State& state) {
    hb::heartbeat_monitor m(hb::monitor_config{}, hb::seeded_uniform_source(1));
    hb::time_point now{};
    m.start(now);
    for (auto _ : state) {
        now += 1us;
        auto step = m.on_inbound(now);
        benchmark::DoNotOptimize(step);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MonitorOnInbound);

// timer -> ping requested -> written -> pong: four steps per iteration.
static void BM_MonitorPingCycle(benchmark::State& state) {
    hb::heartbeat_monitor m(hb::monitor_config{}, hb::seeded_uniform_source(1));
    m.start(hb::time_point{});
    for (auto _ : state) {
        const hb::time_point now = m.next_deadline();
        auto step = m.on_timer(now);
        m.on_ping_written(step.send_ping, now);
        auto pong = m.on_pong(step.send_ping, now + 1ms);
        benchmark::DoNotOptimize(pong);
    }
    state.SetItemsProcessed(state.iterations() * 4);
}
BENCHMARK(BM_MonitorPingCycle);

static void BM_MonitorOnTimerIdle(benchmark::State& state) {
    hb::heartbeat_monitor m(hb::monitor_config{}, hb::seeded_uniform_source(1));
    m.start(hb::time_point{});
    const hb::time_point early = hb::time_point{} + 1ms;
    for (auto _ : state) {
        auto step = m.on_timer(early); // stale timer: the common no-op
        benchmark::DoNotOptimize(step);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_MonitorOnTimerIdle);
