#include <heartbeat/core/random.hpp>

#include <array>
#include <memory>
#include <random>

namespace heartbeat {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
    std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) {
    return (x << k) | (x >> (64 - k));
}

struct xoshiro256ss {
    std::array<std::uint64_t, 4> s;
    explicit xoshiro256ss(std::uint64_t seed) {
        for (auto& word : s)
            word = splitmix64(seed);
    }
    std::uint64_t next() {
        const std::uint64_t result = rotl(s[1] * 5, 7) * 9;
        const std::uint64_t t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = rotl(s[3], 45);
        return result;
    }
};

} // namespace

uniform_source seeded_uniform_source(std::uint64_t seed) {
    auto gen = std::make_shared<xoshiro256ss>(seed);
    // 53 random mantissa bits give every representable double in [0, 1) equal weight.
    return [gen] { return static_cast<double>(gen->next() >> 11) * 0x1.0p-53; };
}

uniform_source default_uniform_source() {
    // One generator per thread, not per call: a source per session then costs no heap (the
    // lambda captures nothing) and no random_device read, and draws from a shared stream are
    // as uniform for each consumer as draws from its own.
    return [] {
        thread_local xoshiro256ss gen = [] {
            std::random_device rd;
            return xoshiro256ss((static_cast<std::uint64_t>(rd()) << 32) ^ rd());
        }();
        return static_cast<double>(gen.next() >> 11) * 0x1.0p-53;
    };
}

} // namespace heartbeat
