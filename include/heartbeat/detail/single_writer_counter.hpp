#pragma once
// Counters with a single writer, the session's executor (strand), read from any thread (stats()).
// A relaxed load and store is then a correct increment and, unlike fetch_add, no locked
// instruction (a full barrier on x86) several times per message.
#include <atomic>

namespace heartbeat::detail {

template <class T, class N>
void counter_add(std::atomic<T>& counter, N n) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) + static_cast<T>(n),
                  std::memory_order_relaxed);
}

template <class T, class N>
void counter_sub(std::atomic<T>& counter, N n) noexcept {
    counter.store(counter.load(std::memory_order_relaxed) - static_cast<T>(n),
                  std::memory_order_relaxed);
}

} // namespace heartbeat::detail
