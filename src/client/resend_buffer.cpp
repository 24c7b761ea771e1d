#include "resend_buffer.hpp"

#include <utility>

namespace heartbeat::detail {

resend_buffer::resend_buffer(std::size_t max_messages, std::size_t max_bytes) noexcept
    : max_messages_(max_messages), max_bytes_(max_bytes) {}

bool resend_buffer::has_room(std::size_t bytes) const noexcept {
    if (messages_.empty())
        return true; // one message always fits, however large
    return messages_.size() < max_messages_ && bytes_ + bytes <= max_bytes_;
}

resend_buffer::message& resend_buffer::push(std::string payload) {
    bytes_ += payload.size();
    messages_.push_back(message{next_seq_++, std::move(payload)});
    return messages_.back();
}

bool resend_buffer::acknowledge(std::uint64_t seq) {
    if (seq <= acked_)
        return false;
    acked_ = seq;
    while (!messages_.empty() && messages_.front().seq <= seq) {
        bytes_ -= messages_.front().payload.size();
        messages_.pop_front();
    }
    return true;
}

std::uint64_t resend_buffer::first_seq() const noexcept {
    return messages_.empty() ? next_seq_ : messages_.front().seq;
}

bool resend_buffer::drained() const noexcept {
    return messages_.empty() || !messages_.front().handed;
}

void resend_buffer::unhand_all() noexcept {
    for (auto& m : messages_)
        m.handed = false;
}

std::vector<received_message> resend_buffer::snapshot() const {
    std::vector<received_message> out;
    out.reserve(messages_.size());
    for (const auto& m : messages_)
        out.push_back({m.seq, m.payload});
    return out;
}

} // namespace heartbeat::detail
