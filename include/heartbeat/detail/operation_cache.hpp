#pragma once
// Memory for a session's own asynchronous operations (its reads, writes and timer waits).
//
// Asio takes operation memory from a per-thread recycling cache, but that cache has two slots
// for every operation of the thread. With two sessions' reads and writes in flight at once,
// plus the application's own operations, the sizes evict each other and most operations
// reach malloc. This cache keeps a few free blocks of each exact size (in 64-byte steps) per
// thread, shared by every session on the thread: an idle session holds only the block of the
// operation it has pending, and taking or returning a block is a few instructions.
#include <cstddef>
#include <new>

namespace heartbeat::detail {

struct alignas(std::max_align_t) operation_cache_header {
    std::size_t size_class; // usable bytes after the header: size_class * granule
};

// Trivial, so the thread_local needs no initialisation guard on each access; the blocks it
// holds are freed at thread exit by a guard object registered on first use.
struct operation_cache_slots {
    static constexpr std::size_t granule = 64;
    static constexpr std::size_t classes = 48; // exact size classes up to 3 KiB
    static constexpr unsigned depth = 4;       // free blocks kept per class
    operation_cache_header* block[classes][depth];
    unsigned char count[classes];
    bool registered; // the thread-exit guard exists
    bool destroyed;  // the thread is exiting: blocks freed from now on go back to the heap
};

inline thread_local constinit operation_cache_slots operation_cache_local{};

class operation_cache {
public:
    static void* allocate(std::size_t size) {
        const std::size_t size_class = (size + granule - 1) / granule;
        operation_cache_slots& s = operation_cache_local;
        if (size_class < slots::classes && s.count[size_class] != 0)
            return s.block[size_class][--s.count[size_class]] + 1;
        auto* h = static_cast<header*>(::operator new(sizeof(header) + size_class * granule));
        h->size_class = size_class;
        return h + 1;
    }

    static void deallocate(void* p) noexcept {
        header* h = static_cast<header*>(p) - 1;
        const std::size_t size_class = h->size_class;
        operation_cache_slots& s = operation_cache_local;
        if (size_class < slots::classes && s.count[size_class] < slots::depth && !s.destroyed) {
            if (!s.registered)
                register_thread_exit(s);
            s.block[size_class][s.count[size_class]++] = h;
            return;
        }
        ::operator delete(h);
    }

private:
    using header = operation_cache_header;
    using slots = operation_cache_slots;
    static constexpr std::size_t granule = slots::granule;

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
    void deallocate(T* p, std::size_t) noexcept { operation_cache::deallocate(p); }

    template <class U>
    bool operator==(const operation_allocator<U>&) const noexcept {
        return true;
    }
};

} // namespace heartbeat::detail
