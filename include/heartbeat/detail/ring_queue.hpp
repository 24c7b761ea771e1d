#pragma once
#include <cstddef>
#include <memory>
#include <new>
#include <type_traits>
#include <utility>

namespace heartbeat::detail {

// A FIFO in one ring of slots that keeps its storage: unlike a deque walking through its blocks,
// a queue that stays short allocates nothing in steady state. Growing it move-constructs the
// elements into a larger ring (never move-assigns: Boost 1.81's any_completion_handler recurses
// on move assignment), so nothing may keep a pointer INTO an element across a push_back: a
// short std::string keeps its bytes inside the object (see the writer's small-chunk staging).
// `first_capacity` (a power of two) is the size of the first ring.
template <class T, std::size_t first_capacity = 4>
class ring_queue {
    static_assert(first_capacity != 0 && (first_capacity & (first_capacity - 1)) == 0);

public:
    ring_queue() = default;
    ring_queue(const ring_queue&) = delete;
    ring_queue& operator=(const ring_queue&) = delete;
    ~ring_queue() {
        clear();
        if (slots_)
            std::allocator<T>().deallocate(slots_, capacity_);
    }

    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    T& operator[](std::size_t i) noexcept { return slots_[(head_ + i) & (capacity_ - 1)]; }
    T& front() noexcept { return slots_[head_]; }
    T& back() noexcept { return (*this)[size_ - 1]; }

    void push_back(T&& value) { emplace_back(std::move(value)); }

    template <class... Args>
    T& emplace_back(Args&&... args) {
        if (size_ == capacity_)
            grow();
        T* const at = slots_ + ((head_ + size_) & (capacity_ - 1));
        T* slot = nullptr;
        if constexpr (std::is_constructible_v<T, Args&&...>)
            slot = std::construct_at(at, std::forward<Args>(args)...);
        else // an aggregate: Clang before 16 lacks C++20's parenthesized aggregate initialization
            slot = ::new (static_cast<void*>(at)) T{std::forward<Args>(args)...};
        ++size_;
        return *slot;
    }

    void pop_front() noexcept {
        std::destroy_at(slots_ + head_);
        head_ = (head_ + 1) & (capacity_ - 1);
        if (--size_ == 0)
            head_ = 0;
    }

    void clear() noexcept {
        while (size_ != 0)
            pop_front();
    }

private:
    void grow() {
        const std::size_t capacity = capacity_ ? capacity_ * 2 : first_capacity;
        T* slots = std::allocator<T>().allocate(capacity);
        for (std::size_t i = 0; i < size_; ++i) {
            T& old = (*this)[i];
            std::construct_at(slots + i, std::move(old));
            std::destroy_at(&old);
        }
        if (slots_)
            std::allocator<T>().deallocate(slots_, capacity_);
        slots_ = slots;
        capacity_ = capacity;
        head_ = 0;
    }

    T* slots_ = nullptr;
    std::size_t capacity_ = 0;
    std::size_t head_ = 0;
    std::size_t size_ = 0;
};

} // namespace heartbeat::detail
