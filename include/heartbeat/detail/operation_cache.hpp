#pragma once
// Memory for a session's own asynchronous operations (its reads, writes and timer waits).
//
// Asio takes operation memory from a per-thread recycling cache, but that cache has two slots
// for every operation of the thread. With two sessions' reads and writes in flight at once,
// plus the application's own operations, the sizes evict each other and most operations
// reach malloc. This cache keeps a few free blocks of each size (in 16-byte steps) per thread,
// shared by every session on the thread: an idle session holds only the block of the
// operation it has pending, and taking or returning a block is a few instructions.
//
// Blocks carry no header: an allocator is told the size again when it deallocates, so the
// size class is recomputed then. A pending operation therefore costs its own size rounded up
// to 16 bytes, which matters because an idle session keeps two of them for ever.
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>

namespace heartbeat::detail {

// Trivial, so the thread_local needs no initialisation guard on each access; the blocks it
// holds are freed at thread exit by a guard object registered on first use.
struct operation_cache_slots {
    static constexpr std::size_t granule = 16;
    static constexpr std::size_t classes = 192; // size classes up to 3 KiB
    static constexpr unsigned depth = 4;        // free blocks kept per class
    void* block[classes][depth];
    unsigned char count[classes];
    bool registered; // the thread-exit guard exists
    bool destroyed;  // the thread is exiting: blocks freed from now on go back to the heap
};

inline thread_local constinit operation_cache_slots operation_cache_local{};

class operation_cache {
public:
    static constexpr std::size_t granule = operation_cache_slots::granule;

    // Every block is aligned for any object: operator new's alignment, and sizes are rounded
    // to whole granules.
    static void* allocate(std::size_t size) {
        const std::size_t size_class = class_of(size);
        operation_cache_slots& s = operation_cache_local;
        if (size_class < slots::classes && s.count[size_class] != 0)
            return s.block[size_class][--s.count[size_class]];
        return ::operator new(size_class* granule);
    }

    // `size` is the size given to allocate() for this block (the thread may differ).
    static void deallocate(void* p, std::size_t size) noexcept {
        const std::size_t size_class = class_of(size);
        operation_cache_slots& s = operation_cache_local;
        if (size_class < slots::classes && s.count[size_class] < slots::depth && !s.destroyed) {
            if (!s.registered)
                register_thread_exit(s);
            s.block[size_class][s.count[size_class]++] = p;
            return;
        }
        ::operator delete(p);
    }

    // Free blocks this thread keeps for allocations of `size` bytes (for tests).
    static unsigned cached(std::size_t size) noexcept {
        const std::size_t size_class = class_of(size);
        return size_class < slots::classes ? operation_cache_local.count[size_class] : 0;
    }

private:
    using slots = operation_cache_slots;

    static constexpr std::size_t class_of(std::size_t size) noexcept {
        return (size + granule - 1) / granule + (size == 0);
    }

    struct thread_exit_guard {
        ~thread_exit_guard() {
            slots& s = operation_cache_local;
            for (std::size_t c = 0; c < slots::classes; ++c)
                while (s.count[c] > 0)
                    ::operator delete(s.block[c][--s.count[c]]);
            s.destroyed = true;
        }
    };
    static void register_thread_exit(slots& s) noexcept {
        static thread_local thread_exit_guard guard;
        (void)guard;
        s.registered = true;
    }
};

// The allocator a session associates with the handlers of its own operations.
template <class T>
struct operation_allocator {
    using value_type = T;

    operation_allocator() noexcept = default;
    template <class U>
    operation_allocator(const operation_allocator<U>&) noexcept {}

    T* allocate(std::size_t n) {
        static_assert(alignof(T) <= alignof(std::max_align_t));
        return static_cast<T*>(operation_cache::allocate(n * sizeof(T)));
    }
    void deallocate(T* p, std::size_t n) noexcept { operation_cache::deallocate(p, n * sizeof(T)); }

    template <class U>
    bool operator==(const operation_allocator<U>&) const noexcept {
        return true;
    }
};

// A handler whose operation takes its memory from the operation cache. Unlike
// asio::bind_allocator it states the allocator as a member, so the handler keeps no associated
// executor of its own. bind_allocator forwards the executor association to the target, which
// makes Asio keep a second, unused copy of the type-erased I/O executor (56 bytes) in every
// pending operation and handle it on every completion.
template <class F>
struct cached_operation {
    F f;
    using allocator_type = operation_allocator<void>;
    allocator_type get_allocator() const noexcept { return {}; }
    template <class... Args>
    void operator()(Args&&... args) {
        f(std::forward<Args>(args)...);
    }
};

template <class F>
cached_operation<std::decay_t<F>> with_operation_cache(F&& f) {
    return {std::forward<F>(f)};
}

// The same, bound to `*executor` (which must outlive the operation). Beast's composed operations
// run markedly fewer instructions per completion for a handler that names its executor than
// for one that takes the stream's by default (about 3 k per WebSocket echo round trip).
template <class Executor, class F>
struct cached_operation_on {
    const Executor* executor;
    F f;
    using executor_type = Executor;
    executor_type get_executor() const noexcept { return *executor; }
    using allocator_type = operation_allocator<void>;
    allocator_type get_allocator() const noexcept { return {}; }
    template <class... Args>
    void operator()(Args&&... args) {
        f(std::forward<Args>(args)...);
    }
};

template <class Executor, class F>
cached_operation_on<Executor, std::decay_t<F>> with_operation_cache(const Executor& executor,
                                                                    F&& f) {
    return {&executor, std::forward<F>(f)};
}

} // namespace heartbeat::detail
