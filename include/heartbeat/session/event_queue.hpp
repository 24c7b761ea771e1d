#pragma once
// The queue behind async_wait_event, shared by both sessions: events in arrival order, kept
// compact because every session holds one for its whole life.
//
// Most events are a kind, two states, a count and a duration: 16 bytes here instead of a
// 112-byte session_event. The two kinds that carry more (the verdict, the end) keep that part
// in a second queue, in the same order, which exists only once such an event was queued.
#include <heartbeat/detail/ring_queue.hpp>
#include <heartbeat/session/session_events.hpp>

#include <cstdint>
#include <memory>
#include <optional>
#include <utility>

namespace heartbeat::detail {

class event_queue {
public:
    bool empty() const noexcept { return events_.empty(); }
    std::size_t size() const noexcept { return events_.size(); }

    // Queues `e` and returns how many events were dropped for it (0 or 1). At `capacity` the
    // oldest event goes; an RTT sample replaces an RTT sample not taken yet, so a session whose
    // application never waits for events does not grow while idle (on_rtt sees every sample).
    // Capacity 0 keeps nothing (the application asked for no queue: nothing counts as dropped).
    std::size_t push(session_event&& e, std::size_t capacity) {
        if (capacity == 0)
            return 0;
        if (e.kind == session_event_kind::rtt_sample && !events_.empty() &&
            events_.back().kind == static_cast<std::uint8_t>(session_event_kind::rtt_sample)) {
            events_.back().value = e.value;
            return 1;
        }
        std::size_t dropped = 0;
        if (events_.size() >= capacity) {
            pop_front();
            dropped = 1;
        }
        if (carries_more(e.kind)) {
            if (!more_)
                more_ = std::make_unique<ring_queue<more, 2>>();
            more_->emplace_back(more{std::move(e.dead), e.reason});
        }
        events_.emplace_back(compact_event{static_cast<std::uint8_t>(e.kind),
                                           static_cast<std::uint8_t>(e.from),
                                           static_cast<std::uint8_t>(e.to), e.missed, e.value});
        return dropped;
    }

    // Precondition: !empty().
    session_event pop_front() {
        const compact_event& c = events_.front();
        session_event e;
        e.kind = static_cast<session_event_kind>(c.kind);
        e.from = static_cast<peer_state>(c.from);
        e.to = static_cast<peer_state>(c.to);
        e.missed = c.missed;
        e.value = c.value;
        if (carries_more(e.kind)) {
            e.dead = std::move(more_->front().dead);
            e.reason = more_->front().reason;
            more_->pop_front();
        }
        events_.pop_front();
        return e;
    }

private:
    struct compact_event {
        std::uint8_t kind; // session_event_kind
        std::uint8_t from; // peer_state
        std::uint8_t to;   // peer_state
        unsigned missed;
        duration value;
    };
    static_assert(sizeof(compact_event) == 16);
    struct more {
        std::optional<verdict> dead;
        boost::system::error_code reason;
    };

    static bool carries_more(session_event_kind k) noexcept {
        return k == session_event_kind::verdict || k == session_event_kind::ended;
    }

    ring_queue<compact_event, 2> events_;
    std::unique_ptr<ring_queue<more, 2>> more_;
};

} // namespace heartbeat::detail
