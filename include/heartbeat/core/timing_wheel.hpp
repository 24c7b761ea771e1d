#pragma once
// A hierarchical timing wheel over integer ticks, sans-io: it never reads a clock, the owner
// says what tick it is now (advance) and receives the entries whose tick has come.
//
// Why a wheel and not a deadline heap, for heartbeats: a monitored peer's deadline moves on
// every inbound frame, and there can be a million peers. Scheduling in a wheel is O(1) (a heap
// pays O(log n) and touches log n cache lines per re-arm), and so is each expiry. Heartbeat
// deadlines sit a few seconds ahead, so almost every entry lands in level 1 (256-tick slots),
// cascades once into level 0 and fires; far deadlines cost one cascade per 8 bits of distance.
//
// The owner keeps each entry's deadline: the wheel's slots are arrays of (entry id, tick) pairs,
// and when a level-0 slot comes due the wheel asks the owner, through `due_of`, when that entry
// is due now. An entry re-scheduled or cancelled since it was put in the slot is simply skipped
// (a stale copy), so cancelling costs nothing and re-scheduling is one append. This is also why
// it is fast at a million entries: slots are read sequentially, cascades move pairs without
// touching the owner's records, and the owner's records are prefetched a chunk (15) at a time
// before expiry, instead of chasing a linked list from one cache miss to the next. Slots are chains
// of fixed-size chunks from one pool, so nothing is allocated once the pool has grown to the peak
// number of scheduled entries.
//
// Layout: 8 levels of 256 slots, one 8-bit digit of the 64-bit tick each, so every distance is
// placed exactly (an entry fires at its own tick, never a slot later). Per-level occupancy
// bitmaps let advance() jump over idle stretches of any length in a few word scans.
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
    static constexpr tick unscheduled = ~tick{0}; // due_of's answer for an entry not scheduled
    static constexpr unsigned levels = 8;
    static constexpr unsigned slots_per_level = 256;
    static constexpr tick max_distance = 0xffffffffu; // farthest tick ahead an entry may go

    // `expected_entries` sizes the chunk pool up front (it grows if ever exceeded).
    explicit timing_wheel(std::size_t expected_entries = 0, tick now = 0) : current_(now) {
        // Each entry once, a quarter more for stale copies and partly filled chunks.
        chunks_.reserve(expected_entries / chunk::capacity * 5 / 4 + 64);
        for (auto& s : slots_)
            s = slot_chain{};
    }

    // The next tick advance() will process: every entry due before it has fired.
    tick current() const noexcept { return current_; }

    // Puts `id` in the slot of tick `at` (a tick already passed: the next tick processed). The
    // owner must answer due_of(id) == that tick from now on; an earlier copy of `id` elsewhere in
    // the wheel becomes stale and is skipped. Precondition: at <= current() + max_distance. Returns
    // the tick used (at, or current() if `at` has passed): due_of must answer that one.
    tick schedule(entry_id id, tick at) {
        if (at < current_)
            at = current_;
        assert(at - current_ <= max_distance);
        append(slot_of(at), id, at);
        return at;
    }

    // Processes every tick up to and including `now`, in order. For each entry in a slot that
    // comes due, due_of(id) says when the entry is due now (or unscheduled); an entry due at the
    // tick being processed is handed to expire(id, tick), others are skipped or moved down a
    // level. expire may schedule entries again (a tick at or before the one being processed
    // then fires on the next tick). prefetch(id) is called a chunk (15 entries) ahead so the owner
    // can bring its record into cache. The current tick becomes now + 1. Returns how many fired.
    template <class DueOf, class Expire, class Prefetch>
    std::size_t advance(tick now, DueOf&& due_of, Expire&& expire, Prefetch&& prefetch) {
        std::size_t fired = 0;
        while (current_ <= now) {
            const tick next = next_event();
            if (next > now) {
                current_ = now + 1;
                break;
            }
            current_ = next;
            cascade(due_of, prefetch);
            const tick due = current_;
            const std::uint32_t head = take(slot_in(0, static_cast<unsigned>(due & 0xff)));
            current_ = due + 1;
            for_each(head, due, prefetch, [&](entry_id id, tick) {
                if (due_of(id) == due) {
                    ++fired;
                    expire(id, due);
                }
            });
        }
        return fired;
    }
    template <class DueOf, class Expire>
    std::size_t advance(tick now, DueOf&& due_of, Expire&& expire) {
        return advance(now, due_of, expire, [](entry_id) {});
    }

    // The earliest tick at which advance() has work (an expiry or a cascade, possibly of stale
    // copies only), or unscheduled when every slot is empty. A few bitmap words per level.
    tick next_event() const noexcept {
        // The minimum over all levels: an entry placed in level 0 at a tick whose lower digits
        // are zero must not let advance() step over the cascade due at that very tick.
        tick earliest = unscheduled;
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

    // Bytes held: the chunk pool (its capacity) and the slot table.
    std::size_t footprint_bytes() const noexcept {
        return chunks_.capacity() * sizeof(chunk) + sizeof(*this);
    }
    // Entries held in slots, stale copies included (for tests and memory figures).
    std::size_t stored() const noexcept { return stored_; }

private:
    static constexpr std::uint32_t no_chunk = 0xffffffffu;
    struct entry {
        entry_id id;
        std::uint32_t due; // low 32 bits of the tick this copy was placed for
    };
    struct alignas(64) chunk {
        static constexpr unsigned capacity = 15;
        entry ids[capacity];
        std::uint32_t count = 0;
        std::uint32_t next = no_chunk;
    };
    static_assert(sizeof(chunk) == 128);
    struct slot_chain {
        std::uint32_t head = no_chunk;
        std::uint32_t tail = no_chunk;
    };

    static unsigned slot_in(unsigned level, unsigned digit) noexcept {
        return level * slots_per_level + digit;
    }

    // Entries go to the level of the highest 8-bit digit in which their tick differs from the
    // current tick, at that digit's value: they reach level 0 only in the last 256 ticks before
    // they fire, moved down by cascade() when the current tick enters their slot.
    unsigned slot_of(tick at) const noexcept {
        const tick differing = at ^ current_;
        const unsigned level =
            differing < 256 ? 0 : static_cast<unsigned>((63 - std::countl_zero(differing)) / 8);
        return slot_in(level, static_cast<unsigned>((at >> (8 * level)) & 0xff));
    }

    void append(unsigned slot, entry_id id, tick at) {
        slot_chain& s = slots_[slot];
        if (s.tail == no_chunk || chunks_[s.tail].count == chunk::capacity) {
            const std::uint32_t c = new_chunk();
            if (s.tail == no_chunk)
                s.head = c;
            else
                chunks_[s.tail].next = c;
            s.tail = c;
            occupied_[slot / 64] |= std::uint64_t{1} << (slot % 64);
        }
        chunk& c = chunks_[s.tail];
        c.ids[c.count++] = entry{id, static_cast<std::uint32_t>(at)};
        ++stored_;
    }

    std::uint32_t new_chunk() {
        std::uint32_t c = free_chunks_;
        if (c != no_chunk) {
            free_chunks_ = chunks_[c].next;
        } else {
            c = static_cast<std::uint32_t>(chunks_.size());
            chunks_.emplace_back(); // grows only past the peak seen so far
        }
        chunks_[c].count = 0;
        chunks_[c].next = no_chunk;
        return c;
    }

    // Detaches a slot's chain; for_each() returns its chunks to the pool.
    std::uint32_t take(unsigned slot) noexcept {
        const std::uint32_t head = slots_[slot].head;
        slots_[slot] = slot_chain{};
        occupied_[slot / 64] &= ~(std::uint64_t{1} << (slot % 64));
        return head;
    }

    // Visits a detached chain in order (chunks are re-read by index: `visit` may append, which
    // may grow the pool) and frees each chunk once visited.
    // `base`: a tick no copy in the chain is before, to widen their 32-bit ticks.
    template <class Prefetch, class Visit>
    void for_each(std::uint32_t c, tick base, Prefetch& prefetch, Visit&& visit) {
        while (c != no_chunk) {
            // Ask for every record of the chunk and for the next chunk at once: the misses then
            // overlap instead of costing a memory round trip each.
            const std::uint32_t count = chunks_[c].count;
            const std::uint32_t following = chunks_[c].next;
            if (following != no_chunk) {
                __builtin_prefetch(&chunks_[following]);
                __builtin_prefetch(reinterpret_cast<const char*>(&chunks_[following]) + 64);
            }
            for (unsigned i = 0; i < count; ++i)
                prefetch(chunks_[c].ids[i].id);
            for (unsigned i = 0; i < count; ++i) {
                --stored_;
                const entry e = chunks_[c].ids[i];
                visit(e.id,
                      base + static_cast<std::uint32_t>(e.due - static_cast<std::uint32_t>(base)));
            }
            chunks_[c].next = free_chunks_;
            free_chunks_ = c;
            c = following;
        }
    }

    // At a tick whose lower digits are all zero, the slot each higher level just entered is
    // re-placed one or more levels down, highest level first, stale copies included (they are
    // recognised at expiry, so the owner's records are not touched here).
    template <class DueOf, class Prefetch>
    void cascade(DueOf&, Prefetch&) {
        auto no_prefetch = [](entry_id) {};
        for (unsigned level = levels - 1; level >= 1; --level) {
            const unsigned shift = 8 * level;
            if ((current_ & ((tick{1} << shift) - 1)) != 0)
                continue;
            const std::uint32_t head =
                take(slot_in(level, static_cast<unsigned>((current_ >> shift) & 0xff)));
            for_each(head, current_, no_prefetch,
                     [&](entry_id id, tick at) { append(slot_of(at), id, at); });
        }
    }

    // First occupied slot of `level` at or after `digit`, or -1.
    int first_occupied(unsigned level, unsigned digit) const noexcept {
        const unsigned base = level * slots_per_level / 64;
        for (unsigned word = digit / 64; word < 4; ++word) {
            std::uint64_t bits = occupied_[base + word];
            if (word == digit / 64)
                bits &= ~std::uint64_t{0} << (digit % 64);
            if (bits != 0)
                return static_cast<int>(word * 64 + static_cast<unsigned>(std::countr_zero(bits)));
        }
        return -1;
    }

    std::vector<chunk> chunks_;
    std::uint32_t free_chunks_ = no_chunk;
    slot_chain slots_[levels * slots_per_level];
    std::uint64_t occupied_[levels * slots_per_level / 64] = {};
    tick current_;
    std::size_t stored_ = 0;
};

} // namespace heartbeat
