#pragma once
// What both sessions do with an application message before its first byte is written: refuse it
// when the session is ending, or withdraw it when its send is cancelled.
#include <heartbeat/core/error.hpp>
#include <heartbeat/detail/handler_box.hpp>
#include <heartbeat/detail/single_writer_counter.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

#include <atomic>
#include <cstddef>
#include <cstdint>

namespace heartbeat::detail {

// Why a send is refused (ended, stopping or closing), or {} when it may be queued.
inline boost::system::error_code send_refusal(bool ended, boost::system::error_code end_reason,
                                              boost::system::error_code stop_reason,
                                              bool closing) noexcept {
    if (ended)
        return end_reason ? end_reason : boost::system::error_code(error::session_closed);
    if (stop_reason)
        return stop_reason;
    if (closing)
        return error::session_closed;
    return {};
}

// Cancellation of the send of message `id`: only a message none of whose bytes are written (nor
// being written: `started(message, index)`) may be withdrawn, since a cut message would corrupt
// the stream. It stays in place, marked, so the writer's indices stay valid and it skips it; its
// handler completes with operation_aborted.
template <class Queue, class Started, class Executor>
void withdraw_queued(Queue& queue, std::uint64_t id, Started started,
                     std::atomic<std::size_t>& queued_bytes, const Executor& ex) {
    for (std::size_t i = 0; i < queue.size(); ++i) {
        auto& m = queue[i];
        if (m.id != id)
            continue;
        if (m.withdrawn || m.offset != 0 || started(m, i))
            return;
        m.withdrawn = true;
        counter_sub(queued_bytes, m.payload.size());
        complete_later(std::move(m.handler), ex,
                       boost::system::error_code(boost::asio::error::operation_aborted));
        return;
    }
}

} // namespace heartbeat::detail
