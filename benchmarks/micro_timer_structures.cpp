// Why peer_monitor_table sits on a timing wheel: the bare timer structures on the heartbeat
// workload, 1,000,000 deadlines each re-armed 1 s ahead when it fires (1 Hz), one simulated
// millisecond per iteration. The wheel (O(1) schedule and expiry) against a binary heap
// (std::priority_queue, O(log n) per push and pop, lazy deletion as a heap needs for re-arms).
// Reported: ns per re-arm (one expiry + one schedule).
#include <heartbeat/core/timing_wheel.hpp>

#include <benchmark/benchmark.h>

#include <cstdint>
#include <queue>
#include <random>
#include <vector>

namespace {

constexpr std::uint32_t deadlines = 1'000'000;

std::vector<std::uint64_t> first_deadlines() {
    std::mt19937_64 rng(7);
    std::vector<std::uint64_t> due(deadlines);
    for (auto& d : due)
        d = 1 + rng() % 1000; // spread over the first second
    return due;
}

void BM_WheelRearm1M(benchmark::State& state) {
    std::vector<std::uint64_t> due = first_deadlines();
    heartbeat::timing_wheel wheel(deadlines);
    for (std::uint32_t id = 0; id < deadlines; ++id)
        due[id] = wheel.schedule(id, due[id]);
    std::uint64_t now = 0, rearms = 0;
    auto due_of = [&](std::uint32_t id) { return due[id]; };
    auto expire = [&](std::uint32_t id, std::uint64_t at) {
        due[id] = wheel.schedule(id, at + 1000);
        ++rearms;
    };
    for (std::uint64_t warm = 0; warm < 2000; ++warm)
        wheel.advance(++now, due_of, expire,
                      [&](std::uint32_t id) { __builtin_prefetch(&due[id]); });
    rearms = 0;
    for (auto _ : state)
        wheel.advance(++now, due_of, expire,
                      [&](std::uint32_t id) { __builtin_prefetch(&due[id]); });
    state.counters["ns_per_rearm"] = benchmark::Counter(
        static_cast<double>(rearms), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_WheelRearm1M)->Iterations(3000)->Unit(benchmark::kMicrosecond);

void BM_HeapRearm1M(benchmark::State& state) {
    using item = std::pair<std::uint64_t, std::uint32_t>; // (due, id), earliest on top
    std::vector<item> storage;
    storage.reserve(deadlines * 2);
    std::priority_queue<item, std::vector<item>, std::greater<>> heap(std::greater<>{},
                                                                      std::move(storage));
    const std::vector<std::uint64_t> first = first_deadlines();
    for (std::uint32_t id = 0; id < deadlines; ++id)
        heap.emplace(first[id], id);
    std::uint64_t now = 0, rearms = 0;
    auto step = [&] {
        ++now;
        while (!heap.empty() && heap.top().first <= now) {
            const item top = heap.top();
            heap.pop();
            heap.emplace(top.first + 1000, top.second);
            ++rearms;
        }
    };
    for (int warm = 0; warm < 2000; ++warm)
        step();
    rearms = 0;
    for (auto _ : state)
        step();
    state.counters["ns_per_rearm"] = benchmark::Counter(
        static_cast<double>(rearms), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_HeapRearm1M)->Iterations(3000)->Unit(benchmark::kMicrosecond);

} // namespace
