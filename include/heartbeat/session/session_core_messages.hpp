#pragma once
// The session core's messages: inbound ones queued for async_receive (or handed straight to a
// waiting receive), outbound ones completed once written. Part of session_core.hpp.
#include <heartbeat/session/session_core.hpp>

namespace heartbeat::detail {

template <class Link>
void session_core<Link>::deliver(message_type&& m) {
    inbox_bytes += m.payload.size();
    inbox.push_back(std::move(m));
    stats().queued_receive_bytes.store(inbox_bytes, std::memory_order_relaxed);
}

// As deliver() then hand_over_received(), without the trip through the inbox when a receive
// is waiting and nothing is queued before this message.
template <class Link>
void session_core<Link>::deliver_and_hand_over(message_type&& m) {
    if (!pending_receive || !inbox.empty()) {
        deliver(std::move(m));
        hand_over_received();
        return;
    }
    if (!link.accept_taken(m)) {
        detail::counter_add(stats().duplicates_dropped, 1);
        recycle(std::move(m.payload));
        return;
    }
    detail::counter_add(stats().messages_received, 1);
    complete_receive(std::move(m));
}

// Takes the oldest queued message for the application. The link may drop it first (a
// duplicate another connection of the logical session delivered already). False when none
// is left.
template <class Link>
bool session_core<Link>::take_received(message_type& out) {
    bool taken = false;
    while (!taken && !inbox.empty()) {
        message_type& m = inbox.front();
        inbox_bytes -= m.payload.size();
        if (!link.accept_taken(m)) {
            detail::counter_add(stats().duplicates_dropped, 1);
            recycle(std::move(m.payload));
            inbox.pop_front();
            continue;
        }
        detail::counter_add(stats().messages_received, 1);
        out = std::move(m);
        inbox.pop_front();
        taken = true;
    }
    stats().queued_receive_bytes.store(inbox_bytes, std::memory_order_relaxed);
    return taken;
}

// Completes a pending receive with the oldest queued message. Called by the link after a
// read completed, so the handler may run at once (see complete_now).
template <class Link>
void session_core<Link>::hand_over_received() {
    if (!pending_receive)
        return;
    message_type m;
    if (take_received(m))
        complete_receive(std::move(m));
}

// The pending receive gets `m`, from inside a read completion (see complete_now).
template <class Link>
void session_core<Link>::complete_receive(message_type&& m) {
    auto h = std::move(*pending_receive);
    pending_receive.reset();
    if (pending_receive_direct)
        detail::invoke_now(std::move(h), exec(), error_code{}, std::move(m));
    else
        detail::complete_now(std::move(h), error_code{}, std::move(m));
}

// The first `count` queued messages were written whole (or withdrawn): report them sent.
// `at_once`: we are in the completion of a successful write, not in async_send, so the
// handlers may run now rather than after another trip through the scheduler.
template <class Link>
void session_core<Link>::complete_front(std::size_t count, bool at_once) {
    for (std::size_t i = 0; i < count && !send_queue.empty(); ++i) {
        auto& m = send_queue.front();
        if (m.withdrawn) {
            send_queue.pop_front();
            continue;
        }
        if (at_once) {
            complete_written_front();
            continue;
        }
        detail::counter_sub(stats().queued_send_bytes, m.payload.size());
        detail::counter_add(stats().messages_sent, 1);
        recycle(std::move(m.payload));
        // Off the queue before it runs: the handler may send again.
        send_box h(std::move(m.handler));
        send_queue.pop_front();
        detail::complete_later(std::move(h), exec(), error_code{});
    }
}

// The front message was written whole, and we are in the completion of its write: its handler
// may run now (directly when it runs on our executor anyway).
template <class Link>
void session_core<Link>::complete_written_front() {
    auto& m = send_queue.front();
    auto& shared = stats();
    detail::counter_sub(shared.queued_send_bytes, m.payload.size());
    detail::counter_add(shared.messages_sent, 1);
    recycle(std::move(m.payload));
    // Off the queue before it runs: the handler may send again.
    send_box h(std::move(m.handler));
    const bool direct = m.direct;
    send_queue.pop_front();
    if (direct)
        detail::invoke_now(std::move(h), exec(), error_code{});
    else
        detail::complete_now(std::move(h), error_code{});
}

} // namespace heartbeat::detail
