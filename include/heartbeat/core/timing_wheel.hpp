#pragma once
// A hierarchical timing wheel over integer ticks, sans-io: it never reads a clock, the owner
// says what tick it is now (advance) and receives the entries whose tick has come.
//
// Why a wheel and not a deadline heap, for heartbeats: a monitored peer's deadline moves on
// every inbound frame, and there can be a million peers. A wheel links, unlinks and re-links an
// entry in O(1) (a heap pays O(log n) and touches log n cache lines per re-arm), and its
// expiries cost O(1) each. Heartbeat deadlines sit a few seconds ahead, so almost every entry is
// placed in level 1 (256-tick slots), cascades once into level 0 and fires; far deadlines cost
// one cascade per 8 bits of distance. Owners that re-arm very often can also re-arm lazily: leave
// the entry where it is when the deadline only moved later, and re-link it when it fires early.
//
// Layout: 8 levels of 256 slots, one 8-bit digit of the 64-bit tick each, so any distance is
// placed exactly (no rounding: an entry fires at its own tick, never a slot later). Entries are
// indices 0..capacity-1 into the owner's records; the wheel keeps per entry only its two links
// and the low 32 bits of its tick (12 bytes), so an entry's tick may lie at most 2^32 - 1 ticks
// after the wheel's current tick. An empty slot is skipped with per-level occupancy bitmaps,
// so advancing over an idle stretch of any length costs at most a few bitmap scans per level.
#include <algorithm>
#include <bit>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace heartbeat {

class timing_wheel {
public:
    using entry_id = std::uint32_t;
    using tick = std::uint64_t;
    static constexpr entry_id none = 0xffffffffu;
    static constexpr unsigned levels = 8;
    static constexpr unsigned slots_per_level = 256;
    static constexpr tick max_distance = 0xffffffffu; // farthest tick ahead an entry may be put
    static constexpr std::size_t node_bytes = 3 * sizeof(std::uint32_t); // per entry

    // All `capacity` entries are allocated here, once; nothing is allocated afterwards.
    explicit timing_wheel(std::size_t capacity, tick now = 0) : nodes_(capacity), current_(now) {
        assert(capacity < none - levels * slots_per_level);
        for (auto& head : heads_)
            head = none;
    }

    std::size_t capacity() const noexcept { return nodes_.size(); }
    // The next tick advance() will process; every entry due before it has been expired.
    tick current() const noexcept { return current_; }
    bool linked(entry_id id) const noexcept { return nodes_[id].prev != none; }
    // The tick `id` is linked for. Precondition: linked(id).
    tick due(entry_id id) const noexcept { return widen(nodes_[id].due); }
    std::size_t size() const noexcept { return size_; }
    // Heap and inline bytes of the wheel itself, for memory figures.
    std::size_t footprint_bytes() const noexcept {
        return nodes_.capacity() * sizeof(node) + sizeof(*this);
    }

    // Links `id` to fire at `at` (a tick already passed fires on the next advance). Re-linking
    // a linked entry moves it. Precondition: at < current() + max_distance.
    void link(entry_id id, tick at) noexcept {
        if (linked(id))
            unlink(id);
        if (at < current_)
            at = current_;
        assert(at - current_ <= max_distance);
        node& n = nodes_[id];
        n.due = static_cast<std::uint32_t>(at);
        const unsigned slot = slot_of(at);
        const entry_id first = heads_[slot];
        n.next = first;
        n.prev = head_marker(slot);
        if (first != none)
            nodes_[first].prev = id;
        heads_[slot] = id;
        occupied_[slot / 64] |= std::uint64_t{1} << (slot % 64);
        ++size_;
    }

    void unlink(entry_id id) noexcept {
        node& n = nodes_[id];
        if (n.prev == none)
            return;
        if (n.next != none)
            nodes_[n.next].prev = n.prev;
        if (n.prev >= marker_base()) {
            const unsigned slot = n.prev - marker_base();
            heads_[slot] = n.next;
            if (n.next == none)
                occupied_[slot / 64] &= ~(std::uint64_t{1} << (slot % 64));
        } else {
            nodes_[n.prev].next = n.next;
        }
        n.prev = n.next = none;
        --size_;
    }

    // Processes every tick up to and including `now`, in order, calling expire(id, due) for each
    // entry whose tick has come (unlinked first, so the callback may link it again; a tick at or
    // before the one being processed then fires on the next tick). The wheel's current tick
    // becomes now + 1. Returns how many entries expired.
    template <class Expire>
    std::size_t advance(tick now, Expire&& expire) {
        std::size_t expired = 0;
        while (current_ <= now) {
            const tick next = next_event();
            if (next > now) {
                current_ = now + 1;
                break;
            }
            current_ = next;
            cascade();
            const unsigned slot = slot_in(0, static_cast<unsigned>(current_ & 0xff));
            entry_id id = heads_[slot];
            heads_[slot] = none;
            occupied_[slot / 64] &= ~(std::uint64_t{1} << (slot % 64));
            const tick due = current_;
            current_ = due + 1;
            while (id != none) {
                const entry_id following = nodes_[id].next;
                nodes_[id].prev = nodes_[id].next = none;
                --size_;
                ++expired;
                expire(id, due);
                id = following;
            }
        }
        return expired;
    }

    // The earliest tick at which advance() has work (an expiry or a cascade), or tick(-1) when
    // the wheel is empty. Cheap: a few bitmap words per level.
    tick next_event() const noexcept {
        // The minimum over all levels: an entry linked in level 0 at a tick whose lower digits
        // are zero must not let advance() step over the cascade due at that very tick.
        tick earliest = ~tick{0};
        for (unsigned level = 0; level < levels; ++level) {
            const unsigned shift = 8 * level;
            const unsigned digit = static_cast<unsigned>((current_ >> shift) & 0xff);
            const int found = first_occupied(level, digit);
            if (found < 0)
                continue;
            const tick block = level + 1 < levels ? (current_ >> (shift + 8)) << (shift + 8) : 0;
            const tick at = block | (static_cast<tick>(found) << shift);
            earliest = std::min(earliest, at < current_ ? current_ : at);
        }
        return earliest;
    }

private:
    struct node {
        entry_id next = none;
        entry_id prev = none; // none: unlinked; >= marker_base(): head of slot (prev - marker_base)
        std::uint32_t due = 0;
    };
    static_assert(sizeof(node) == node_bytes);

    entry_id marker_base() const noexcept { return static_cast<entry_id>(nodes_.size()); }
    entry_id head_marker(unsigned slot) const noexcept { return marker_base() + slot; }
    static unsigned slot_in(unsigned level, unsigned digit) noexcept {
        return level * slots_per_level + digit;
    }

    // Entries are linked in the level of the highest 8-bit digit in which their tick differs
    // from the current tick, at that digit's value: they reach level 0 only in the last 256
    // ticks before they fire, moved down by cascade() when the current tick enters their slot.
    unsigned slot_of(tick at) const noexcept {
        const tick differing = at ^ current_;
        const unsigned level =
            differing < 256 ? 0 : static_cast<unsigned>((63 - std::countl_zero(differing)) / 8);
        return slot_in(level, static_cast<unsigned>((at >> (8 * level)) & 0xff));
    }

    // The full tick of a stored 32-bit one: linked entries are never before current_ and never
    // more than max_distance after it.
    tick widen(std::uint32_t due) const noexcept {
        return current_ + static_cast<std::uint32_t>(due - static_cast<std::uint32_t>(current_));
    }

    // At a tick whose lower digits are all zero, the slot of each higher level that the tick
    // just entered is re-linked one or more levels down, highest level first.
    void cascade() noexcept {
        for (unsigned level = levels - 1; level >= 1; --level) {
            const unsigned shift = 8 * level;
            if ((current_ & ((tick{1} << shift) - 1)) != 0)
                continue;
            const unsigned slot = slot_in(level, static_cast<unsigned>((current_ >> shift) & 0xff));
            entry_id id = heads_[slot];
            heads_[slot] = none;
            occupied_[slot / 64] &= ~(std::uint64_t{1} << (slot % 64));
            while (id != none) {
                const entry_id following = nodes_[id].next;
                const tick at = widen(nodes_[id].due);
                nodes_[id].prev = nodes_[id].next = none;
                --size_;
                link(id, at);
                id = following;
            }
        }
    }

    // First occupied slot of `level` at or after `digit`, or -1.
    int first_occupied(unsigned level, unsigned digit) const noexcept {
        const unsigned base = level * slots_per_level;
        for (unsigned word = digit / 64; word < 4; ++word) {
            std::uint64_t bits = occupied_[(base / 64) + word];
            if (word == digit / 64)
                bits &= ~std::uint64_t{0} << (digit % 64);
            if (bits != 0)
                return static_cast<int>(word * 64 + static_cast<unsigned>(std::countr_zero(bits)));
        }
        return -1;
    }

    std::vector<node> nodes_;
    entry_id heads_[levels * slots_per_level];
    std::uint64_t occupied_[levels * slots_per_level / 64] = {};
    tick current_;
    std::size_t size_ = 0;
};

} // namespace heartbeat
