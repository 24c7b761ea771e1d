#pragma once
// The client's resend buffer, the heart of lossless failover: every accepted message keeps its
// sequence number (1, 2, ... in the logical session) until a server acknowledges it, and after a
// reconnect the unacknowledged ones go to the next session, in order, before any new one.
// Bounded in messages and bytes, though one message always fits. No I/O: the client's driver
// hands the messages to its sessions and reports the acknowledgements.
#include <heartbeat/session/session_events.hpp>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <vector>

namespace heartbeat::detail {

class resend_buffer {
public:
    struct message {
        std::uint64_t seq = 0;
        std::string payload;
        bool handed = false;    // given to the current session
        bool ever_sent = false; // given to some session before
    };

    resend_buffer(std::size_t max_messages, std::size_t max_bytes) noexcept;

    // Whether a message of `bytes` fits now.
    bool has_room(std::size_t bytes) const noexcept;
    // Accepts `payload` under the next sequence number.
    message& push(std::string payload);
    // The peer delivered every message up to `seq`: they leave the buffer. False when that was
    // known already.
    bool acknowledge(std::uint64_t seq);

    // The sequence number the next session's first message carries: the oldest unacknowledged
    // message's, else the next one to be accepted.
    std::uint64_t first_seq() const noexcept;
    // Nothing handed to the current session awaits its acknowledgement.
    bool drained() const noexcept;
    // The session ended: every message waits for the next one.
    void unhand_all() noexcept;

    std::deque<message>& messages() noexcept { return messages_; }
    std::size_t size() const noexcept { return messages_.size(); }
    std::uint64_t acked() const noexcept { return acked_; }
    // The unacknowledged messages, oldest first.
    std::vector<received_message> snapshot() const;

private:
    std::size_t max_messages_;
    std::size_t max_bytes_;
    std::deque<message> messages_;
    std::size_t bytes_ = 0;
    std::uint64_t next_seq_ = 1;
    std::uint64_t acked_ = 0;
};

} // namespace heartbeat::detail
