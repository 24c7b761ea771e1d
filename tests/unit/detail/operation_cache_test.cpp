#include <heartbeat/detail/operation_cache.hpp>

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <thread>
#include <vector>

namespace {

using heartbeat::detail::operation_allocator;
using heartbeat::detail::operation_cache;

// Each test uses its own sizes, so blocks other tests left in this thread's cache do not count.

TEST(OperationCache, FreedBlockIsReusedForTheSameSizeClass) {
    void* a = operation_cache::allocate(200);
    const unsigned before = operation_cache::cached(200);
    operation_cache::deallocate(a, 200);
    EXPECT_EQ(operation_cache::cached(200), before + 1);
    // 193..208 bytes are one 16-byte class: any of them takes the block back.
    void* b = operation_cache::allocate(193);
    EXPECT_EQ(b, a);
    EXPECT_EQ(operation_cache::cached(200), before);
    operation_cache::deallocate(b, 193);
}

TEST(OperationCache, NeighbouringClassesDoNotShareBlocks) {
    void* a = operation_cache::allocate(240); // class 225..240
    operation_cache::deallocate(a, 240);
    void* b = operation_cache::allocate(241); // class 241..256
    EXPECT_NE(b, a);
    void* c = operation_cache::allocate(225);
    EXPECT_EQ(c, a);
    operation_cache::deallocate(b, 241);
    operation_cache::deallocate(c, 225);
}

TEST(OperationCache, BlocksAreAlignedAndHoldTheirWholeSize) {
    for (std::size_t size : {1u, 15u, 16u, 17u, 100u, 1000u, 3000u, 5000u}) {
        void* p = operation_cache::allocate(size);
        EXPECT_EQ(reinterpret_cast<std::uintptr_t>(p) % alignof(std::max_align_t), 0u) << size;
        std::memset(p, 0xA5, size); // ASan flags a block smaller than asked for
        operation_cache::deallocate(p, size);
    }
}

TEST(OperationCache, KeepsAtMostFourBlocksPerClass) {
    constexpr std::size_t size = 1500;
    std::vector<void*> blocks;
    for (int i = 0; i < 10; ++i)
        blocks.push_back(operation_cache::allocate(size));
    for (void* p : blocks)
        operation_cache::deallocate(p, size);
    EXPECT_EQ(operation_cache::cached(size), 4u); // the other six went back to the heap
    for (int i = 0; i < 4; ++i)
        operation_cache::deallocate(operation_cache::allocate(size), size);
    EXPECT_EQ(operation_cache::cached(size), 4u);
}

TEST(OperationCache, LargeBlocksBypassTheCache) {
    void* p = operation_cache::allocate(64 * 1024);
    operation_cache::deallocate(p, 64 * 1024);
    EXPECT_EQ(operation_cache::cached(64 * 1024), 0u);
}

TEST(OperationCache, BlockFreedOnAnotherThreadJoinsThatThreadsCache) {
    constexpr std::size_t size = 2000;
    const unsigned here_before = operation_cache::cached(size);
    void* p = operation_cache::allocate(size);
    unsigned there = 0;
    std::thread t([&] {
        operation_cache::deallocate(p, size);
        there = operation_cache::cached(size);
    }); // the thread's exit frees what it cached (ASan/LSan would report a leak otherwise)
    t.join();
    EXPECT_EQ(there, 1u);
    EXPECT_EQ(operation_cache::cached(size), here_before);
}

TEST(OperationCache, AllocatorPassesTheSizeBack) {
    operation_allocator<std::uint64_t> alloc;
    std::uint64_t* p = alloc.allocate(40); // 320 bytes
    const unsigned before = operation_cache::cached(320);
    alloc.deallocate(p, 40);
    EXPECT_EQ(operation_cache::cached(320), before + 1);
    operation_allocator<char> bytes(alloc);
    char* q = bytes.allocate(320);
    EXPECT_EQ(static_cast<void*>(q), static_cast<void*>(p));
    bytes.deallocate(q, 320);
}

} // namespace
