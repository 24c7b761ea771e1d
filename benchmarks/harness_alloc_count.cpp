// Counts operator new calls (and bytes) for the end-to-end harnesses. Only operator new is seen:
// Asio's recycled coroutine frames and operations go through aligned_alloc.
#include "harness.hpp"

#include <cstdlib>
#include <new>

namespace alloc_count {
std::uint64_t calls = 0;
std::uint64_t bytes = 0;
} // namespace alloc_count

void* operator new(std::size_t n) {
    ++alloc_count::calls;
    alloc_count::bytes += n;
    if (void* p = std::malloc(n ? n : 1))
        return p;
    throw std::bad_alloc();
}
void* operator new[](std::size_t n) {
    return ::operator new(n);
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
    ++alloc_count::calls;
    alloc_count::bytes += n;
    return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept {
    return ::operator new(n, t);
}
void operator delete(void* p) noexcept {
    std::free(p);
}
void operator delete[](void* p) noexcept {
    std::free(p);
}
void operator delete(void* p, std::size_t) noexcept {
    std::free(p);
}
void operator delete[](void* p, std::size_t) noexcept {
    std::free(p);
}
