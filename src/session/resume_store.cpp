#include <heartbeat/session/resume_store.hpp>

#include <algorithm>

namespace heartbeat {

std::shared_ptr<resume_store::counter> resume_store::attach(std::uint64_t session_id) {
    std::lock_guard lock(mutex_);
    auto it = entries_.find(session_id);
    if (it == entries_.end()) {
        if (entries_.size() >= capacity_ && !entries_.empty()) {
            // Linear scan: eviction only happens at capacity, and attach is once per connection.
            auto oldest = std::min_element(entries_.begin(), entries_.end(), [](auto& a, auto& b) {
                return a.second.last_use < b.second.last_use;
            });
            entries_.erase(oldest);
        }
        it = entries_.emplace(session_id, entry{std::make_shared<counter>(0), 0}).first;
    }
    it->second.last_use = ++clock_;
    return it->second.delivered;
}

std::size_t resume_store::size() const {
    std::lock_guard lock(mutex_);
    return entries_.size();
}

} // namespace heartbeat
