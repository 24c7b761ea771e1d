// peer_monitor_table at scale on a fake clock: 1,000,000 peers heartbeating at 1 Hz.
// ns per heartbeat event (the ping falls due in advance(), the driver reports it written, the
// pong comes back, the peer is re-armed) and bytes per peer (allocated + sizeof, from
// mallinfo2 around the construction). Targets (issue 14): < 100 ns/event, < 100 B/peer.
#include <heartbeat/core/peer_monitor_table.hpp>

#include <benchmark/benchmark.h>

#include <malloc.h>

#include <memory>
#include <vector>

using namespace std::chrono_literals;
namespace hb = heartbeat;

namespace {

constexpr std::size_t peers = 1'000'000;

hb::monitor_config one_hertz() {
    hb::monitor_config c;
    c.interval = 1s;
    c.jitter = 0.1; // a fleet spreads its pings: about peers / 1000 fall due each millisecond
    c.pong_timeout = 500ms;
    c.max_missed = 3;
    return c;
}

struct due_ping {
    std::uint32_t peer;
    std::uint32_t seq;
};

// The table and a driver's pending-ping list, with every peer added over the first second
// (as connections would arrive) and one second run so the schedule is in steady state.
struct fleet {
    const hb::time_point origin{};
    hb::peer_monitor_table table{one_hertz(), peers, origin};
    std::vector<due_ping> due;
    long now_ms = 0;
    std::uint64_t events = 0;

    fleet() {
        due.reserve(peers);
        for (long ms = 0; ms < 1000; ++ms) {
            for (std::size_t i = 0; i < peers / 1000; ++i)
                table.add(origin + std::chrono::milliseconds(ms));
        }
        now_ms = 1000;
        while (now_ms < 2000)
            step();
        events = 0;
    }

    // One millisecond of the driver: advance, then write every due ping; its pong arrives in
    // the same millisecond (loopback), which re-arms the peer for a second later.
    void step() {
        const hb::time_point now = origin + std::chrono::milliseconds(now_ms++);
        due.clear();
        table.advance(now, [&](const hb::peer_action& a) {
            if (a.kind == hb::peer_action_kind::send_ping)
                due.push_back({a.peer, a.seq});
        });
        auto ignore = [](const hb::peer_action&) {};
        for (const due_ping& p : due) {
            table.on_ping_written(p.peer, p.seq, now, ignore);
            table.on_pong(p.peer, p.seq, now, ignore);
        }
        events += due.size();
    }
};

void BM_PeerTableHeartbeat1M(benchmark::State& state) {
    fleet f;
    for (auto _ : state)
        f.step();
    state.counters["events"] = static_cast<double>(f.events);
    state.counters["ns_per_event"] = benchmark::Counter(
        static_cast<double>(f.events), benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
    state.counters["peers_alive"] = static_cast<double>(f.table.size());
    // After five heartbeats each: the chunk pool at its steady size, stale copies included.
    state.counters["steady_bytes_per_peer"] =
        static_cast<double>(f.table.footprint_bytes()) / static_cast<double>(peers);
}
// One iteration is one simulated millisecond (~1000 heartbeat events); 5000 iterations run
// every peer through five heartbeats.
BENCHMARK(BM_PeerTableHeartbeat1M)->Iterations(5000)->Unit(benchmark::kMicrosecond);

// Inbound data on random peers: the re-arm that happens on every inbound frame (lazy: the
// wheel entry stays where it is and is re-linked once, when it fires early).
void BM_PeerTableInbound1M(benchmark::State& state) {
    fleet f;
    std::uint64_t x = 88172645463325252u;
    const hb::time_point now = f.origin + std::chrono::milliseconds(f.now_ms);
    auto ignore = [](const hb::peer_action&) {};
    for (auto _ : state) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        f.table.on_inbound(static_cast<std::uint32_t>(x % peers), now, ignore);
    }
    state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_PeerTableInbound1M);

void BM_PeerTableBytesPerPeer1M(benchmark::State& state) {
    double per_peer = 0;
    for (auto _ : state) {
        const auto before = mallinfo2().uordblks;
        auto table = std::make_unique<hb::peer_monitor_table>(one_hertz(), peers, hb::time_point{});
        for (std::size_t i = 0; i < peers; ++i)
            table->add(hb::time_point{});
        const auto after = mallinfo2().uordblks;
        // The table object itself is on the heap here, so `after - before` includes sizeof.
        per_peer = static_cast<double>(after - before) / static_cast<double>(peers);
        benchmark::DoNotOptimize(table);
    }
    state.counters["bytes_per_peer"] = per_peer;
    state.counters["record_plus_wheel_node"] =
        static_cast<double>(hb::peer_monitor_table::bytes_per_peer);
    state.counters["heartbeat_monitor_sizeof"] = static_cast<double>(sizeof(hb::heartbeat_monitor));
}
BENCHMARK(BM_PeerTableBytesPerPeer1M)->Iterations(1)->Unit(benchmark::kMillisecond);

} // namespace
