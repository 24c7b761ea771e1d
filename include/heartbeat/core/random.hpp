#pragma once
// Injected randomness. Policies that jitter (ping schedule, backoff) take a uniform source so
// tests can pin exact values; production uses a per-thread seeded generator.
#include <cstdint>
#include <functional>

namespace heartbeat {

// Returns a double uniformly distributed in [0, 1).
using uniform_source = std::function<double()>;

// splitmix64-seeded xoshiro256** generator; deterministic for a given seed.
uniform_source seeded_uniform_source(std::uint64_t seed);

// Draws from a per-thread generator seeded from std::random_device on the thread's first draw;
// costs no allocation.
uniform_source default_uniform_source();

} // namespace heartbeat
