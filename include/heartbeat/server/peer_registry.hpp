#pragma once
// The bookkeeping every server shares, whatever its protocol: the table of live peers, their
// ids, the session limit, the closed flag and the lifetime counters, behind one mutex because
// stats(), send_to() and close() run on any thread while each peer's session runs on its own
// strand.
#include <heartbeat/core/error.hpp>
#include <heartbeat/server/server_types.hpp>

#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace heartbeat::detail {

enum class admission { admitted, full, closed };

// Peer: a struct with a `peer_info info` member.
template <class Peer>
class peer_registry {
public:
    using peer_ptr = std::shared_ptr<Peer>;

    bool closed() const {
        std::lock_guard lock(mutex_);
        return closed_;
    }

    // True (and counted as rejected) when `max_sessions` peers are live already.
    bool full(std::size_t max_sessions) {
        std::lock_guard lock(mutex_);
        return full_locked(max_sessions);
    }

    // Admits a new peer: gives `p` its id and address and counts it as accepted. Refused (and
    // counted as rejected) when `max_sessions` peers are live; refused when closed.
    admission admit(Peer& p, std::string address, std::size_t max_sessions) {
        std::lock_guard lock(mutex_);
        if (closed_)
            return admission::closed;
        if (full_locked(max_sessions))
            return admission::full;
        ++counters_.accepted;
        p.info.id = next_id_++;
        p.info.address = std::move(address);
        return admission::admitted;
    }

    // Lists an admitted peer once its session exists; false when the server closed meanwhile
    // (the caller then drops the session without running it).
    bool insert(peer_ptr p) {
        std::lock_guard lock(mutex_);
        if (closed_)
            return false;
        const auto id = p->info.id;
        peers_.emplace(id, std::move(p));
        return true;
    }

    // The peer's session ended with `reason`.
    void remove(std::uint64_t id, boost::system::error_code reason) {
        std::lock_guard lock(mutex_);
        peers_.erase(id);
        ++counters_.ended;
        ++counters_.endings[error_name(reason)];
    }

    peer_ptr find(std::uint64_t id) const {
        std::lock_guard lock(mutex_);
        auto it = peers_.find(id);
        return it == peers_.end() ? nullptr : it->second;
    }

    // Marks the registry closed and returns the live peers, for the caller to close; nullopt
    // when it was closed already.
    std::optional<std::vector<peer_ptr>> close() {
        std::lock_guard lock(mutex_);
        if (closed_)
            return std::nullopt;
        closed_ = true;
        return list_locked();
    }

    // Empties the registry (counting each peer as ended with `reason`) and returns its peers.
    std::vector<peer_ptr> take_all(boost::system::error_code reason) {
        std::lock_guard lock(mutex_);
        auto all = list_locked();
        counters_.ended += all.size();
        if (!all.empty())
            counters_.endings[error_name(reason)] += all.size();
        peers_.clear();
        return all;
    }

    std::vector<peer_ptr> peers() const {
        std::lock_guard lock(mutex_);
        return list_locked();
    }

    // The counters, with `active` and the byte totals of the live sessions; `session_stats_of`
    // maps a peer to its session's stats and is called outside the lock.
    template <class SessionStatsOf>
    server_stats stats(SessionStatsOf session_stats_of) const {
        server_stats out;
        std::vector<peer_ptr> live;
        {
            std::lock_guard lock(mutex_);
            out = counters_;
            out.active = peers_.size();
            live = list_locked();
        }
        for (const auto& p : live) {
            const session_stats s = session_stats_of(*p);
            out.bytes_sent += s.bytes_sent;
            out.bytes_received += s.bytes_received;
        }
        return out;
    }

private:
    bool full_locked(std::size_t max_sessions) {
        if (peers_.size() < max_sessions)
            return false;
        ++counters_.rejected;
        return true;
    }

    std::vector<peer_ptr> list_locked() const {
        std::vector<peer_ptr> out;
        out.reserve(peers_.size());
        for (const auto& [id, p] : peers_)
            out.push_back(p);
        return out;
    }

    mutable std::mutex mutex_;
    std::map<std::uint64_t, peer_ptr> peers_;
    server_stats counters_;
    std::uint64_t next_id_ = 1;
    bool closed_ = false;
};

} // namespace heartbeat::detail
