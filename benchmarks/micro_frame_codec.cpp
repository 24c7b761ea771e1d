// Frame codec throughput. The codec sits on every byte a session reads or writes, so it must stay
// far below the cost of the syscalls around it: the target is >= 1 GB/s decoding 64-byte DATA.
#include <heartbeat/protocol/native/frame_codec.hpp>

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <vector>

namespace {

using namespace heartbeat;

constexpr std::size_t payload_64 = 64;
constexpr std::size_t frame_64 = frame_header_size + payload_64;
// About 1.1 MiB of DATA64, more than a typical L2, so the figures are not a cache-hot toy's.
constexpr std::size_t stream_frames = 16384;
constexpr std::size_t max_payload = 1 << 20;

std::vector<std::uint8_t> data64_stream() {
    const std::vector<std::uint8_t> payload(payload_64, 0xAB);
    std::vector<std::uint8_t> wire;
    wire.reserve(stream_frames * frame_64);
    for (std::size_t i = 0; i < stream_frames; ++i)
        encode_append(data_frame{.fin = true, .payload = payload}, wire);
    return wire;
}

void report(benchmark::State& state, std::size_t frames_per_iteration,
            std::size_t bytes_per_iteration) {
    const auto iterations = static_cast<std::int64_t>(state.iterations());
    state.SetItemsProcessed(iterations * static_cast<std::int64_t>(frames_per_iteration));
    state.SetBytesProcessed(iterations * static_cast<std::int64_t>(bytes_per_iteration));
    state.counters["frames/s"] = benchmark::Counter(static_cast<double>(frames_per_iteration),
                                                    benchmark::Counter::kIsIterationInvariantRate);
}

// Decodes the whole stream; returns frames seen so the work cannot be optimised away.
std::size_t decode_all(std::span<const std::uint8_t> wire) {
    std::size_t frames = 0;
    while (!wire.empty()) {
        const auto r = parse_frame(wire, max_payload);
        if (r.st != parse_result::status::frame)
            break;
        benchmark::DoNotOptimize(r.value);
        wire = wire.subspan(r.consumed);
        ++frames;
    }
    return frames;
}

void BM_DecodeData64(benchmark::State& state) {
    const auto wire = data64_stream();
    for (auto _ : state) {
        const std::size_t frames = decode_all(wire);
        if (frames != stream_frames)
            state.SkipWithError("decoder stopped early");
        benchmark::DoNotOptimize(frames);
    }
    report(state, stream_frames, wire.size());
}
BENCHMARK(BM_DecodeData64);

void BM_EncodeData64(benchmark::State& state) {
    const std::vector<std::uint8_t> payload(payload_64, 0xAB);
    const frame f = data_frame{.fin = true, .payload = payload};
    std::vector<std::uint8_t> out(stream_frames * frame_64);
    for (auto _ : state) {
        std::span<std::uint8_t> rest{out};
        for (std::size_t i = 0; i < stream_frames; ++i)
            rest = rest.subspan(encode(f, rest));
        benchmark::DoNotOptimize(out.data());
        benchmark::ClobberMemory();
    }
    report(state, stream_frames, out.size());
}
BENCHMARK(BM_EncodeData64);

void BM_DecodePingPong(benchmark::State& state) {
    std::vector<std::uint8_t> wire;
    for (std::uint64_t seq = 0; seq < stream_frames / 2; ++seq) {
        encode_append(ping_frame{.seq = seq, .send_time_us = seq * 1000}, wire);
        encode_append(pong_frame{.seq = seq, .send_time_us = seq * 1000}, wire);
    }
    for (auto _ : state) {
        const std::size_t frames = decode_all(wire);
        if (frames != stream_frames)
            state.SkipWithError("decoder stopped early");
        benchmark::DoNotOptimize(frames);
    }
    report(state, stream_frames, wire.size());
}
BENCHMARK(BM_DecodePingPong);

void BM_EncodePing(benchmark::State& state) {
    std::uint8_t out[frame_header_size + 16];
    std::uint64_t seq = 0;
    for (auto _ : state) {
        ++seq;
        const frame f = ping_frame{.seq = seq, .send_time_us = seq * 1000};
        benchmark::DoNotOptimize(encode(f, out));
        benchmark::ClobberMemory();
    }
    report(state, 1, sizeof out);
}
BENCHMARK(BM_EncodePing);

// The buffering decoder as a driver without its own contiguous buffer uses it: socket-sized
// slices that split frames at arbitrary points.
void BM_DecoderFeed64(benchmark::State& state) {
    const auto wire = data64_stream();
    constexpr std::size_t slice = 4096;
    frame_decoder decoder{max_payload};
    for (auto _ : state) {
        std::size_t frames = 0;
        for (std::size_t offset = 0; offset < wire.size(); offset += slice) {
            decoder.feed(std::span{wire}.subspan(offset, std::min(slice, wire.size() - offset)));
            for (auto r = decoder.next(); r.st == parse_result::status::frame; r = decoder.next()) {
                benchmark::DoNotOptimize(r.value);
                ++frames;
            }
        }
        if (frames != stream_frames)
            state.SkipWithError("decoder lost frames");
    }
    report(state, stream_frames, wire.size());
}
BENCHMARK(BM_DecoderFeed64);

} // namespace
