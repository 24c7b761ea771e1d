#pragma once
// Server-side memory of logical sessions, so a client that reconnects with the same session id
// resumes where it left off: messages it re-sends that were already delivered are dropped, which
// makes delivery to the application exactly-once across reconnects to the same server. Servers
// that share one store (same process, or a store shared by a cluster) extend exactly-once across
// failover between them; a session claims each sequence number atomically, so even a stale
// connection that wakes up after a freeze cannot deliver a message another one delivered.
#include <heartbeat/core/clock.hpp>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

namespace heartbeat {

class resume_store {
public:
    using counter = std::atomic<std::uint64_t>; // highest sequence number delivered

    // Bounded: beyond `capacity` ids the least recently attached one is forgotten (a client
    // resuming it later is treated as new: at-least-once instead of exactly-once).
    explicit resume_store(std::size_t capacity = 100000) : capacity_(capacity) {}

    // The delivered-sequence counter of `session_id`, created at 0 on first use. The session
    // updates it as it delivers; the counter outlives the connection.
    std::shared_ptr<counter> attach(std::uint64_t session_id);

    std::size_t size() const;

private:
    struct entry {
        std::shared_ptr<counter> delivered;
        std::uint64_t last_use = 0;
    };
    mutable std::mutex mutex_;
    std::size_t capacity_;
    std::uint64_t clock_ = 0;
    std::unordered_map<std::uint64_t, entry> entries_;
};

} // namespace heartbeat
