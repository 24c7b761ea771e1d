#pragma once
// Memory for a session's own asynchronous operations (its reads, writes and timer waits).
//
// Asio takes operation memory from a per-thread recycling cache, but that cache has two slots
// for every operation of the thread. With two sessions' reads and writes in flight at once,
// plus the application's own operations, the sizes evict each other and most operations
// reach malloc. This cache has its own slots per thread, shared by every session on the thread,
// so an idle session holds only the block of the operation it has pending, not a block per
// kind of operation.
#include <cstddef>
#include <new>

namespace heartbeat::detail {

struct alignas(std::max_align_t) operation_cache_header {
    std::size_t size; // bytes usable after the header
};

// Trivial, so the thread_local needs no initialisation guard on each access; the blocks it
// holds are freed at thread exit by a guard object registered on first use.
struct operation_cache_slots {
    static constexpr unsigned capacity = 8;
    operation_cache_header* block[capacity];
    unsigned count;  // block[0, count) are free blocks, the most recently freed last
    bool registered; // the thread-exit guard exists
    bool destroyed;  // the thread is exiting: blocks freed from now on go back to the heap
};

inline thread_local constinit operation_cache_slots operation_cache_local{};

class operation_cache {
public:
    static void* allocate(std::size_t size) {
        const std::size_t wanted = round_up(size);
        operation_cache_slots& s = operation_cache_local;
        // Most recently freed first: a session re-arms the operation that just completed.
        for (unsigned i = s.count; i-- > 0;) {
            header* h = s.block[i];
            if (h->size >= wanted && h->size <= 4 * wanted) {
                s.block[i] = s.block[--s.count];
                return h + 1;
            }
        }
        auto* h = static_cast<header*>(::operator new(sizeof(header) + wanted));
        h->size = wanted;
        return h + 1;
    }

    static void deallocate(void* p) noexcept {
        header* h = static_cast<header*>(p) - 1;
        operation_cache_slots& s = operation_cache_local;
        if (s.count < operation_cache_slots::capacity && !s.destroyed) {
            if (!s.registered)
                register_thread_exit(s);
            s.block[s.count++] = h;
            return;
        }
        ::operator delete(h);
    }

private:
    using header = operation_cache_header;
    static constexpr std::size_t granule = 64;

    static std::size_t round_up(std::size_t n) noexcept {
        return (n + granule - 1) / granule * granule;
    }

    struct thread_exit_guard {
        ~thread_exit_guard() {
            operation_cache_slots& s = operation_cache_local;
            while (s.count > 0)
                ::operator delete(s.block[--s.count]);
            s.destroyed = true;
        }
    };
    static void register_thread_exit(operation_cache_slots& s) noexcept {
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
