#pragma once
// websocket_link<NextLayer>: the I/O of a session over a Beast WebSocket stream. Beast owns the
// framing, so this link drives Beast's operations instead of a sans-io profile, under Beast's
// rules: one read, one write and one ping may be outstanding at a time, and a Beast operation
// cannot be cancelled without failing the whole stream, so no loop is ever cancelled mid-way.
//   reader  - one websocket read always outstanding: Beast answers the peer's pings and reports
//             pongs (through its control callback) only while a read is pending;
//   writer  - messages as frames of at most fragment_size bytes, one async_write_some per frame,
//             application-level heartbeats between messages;
//   pinger  - control pings, one async_ping at a time, slipping between the writer's frames;
//   ending  - once the core stops: let an in-flight frame finish, send the close frame, tear
//             the connection down, wait until every loop has returned, then end the run.
// The heartbeat timer is the core's. Member functions in websocket_link_impl.hpp and
// websocket_link_ending.hpp.
#include <heartbeat/detail/ring_queue.hpp>
#include <heartbeat/protocol/websocket/websocket_config.hpp>
#include <heartbeat/session/session.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/string_type.hpp>
#include <boost/beast/websocket/stream_fwd.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <string>

namespace heartbeat {

template <class NextLayer>
class websocket_link {
public:
    using next_layer_type = NextLayer;
    using stream_type = boost::beast::websocket::stream<NextLayer>;
    using executor_type = typename NextLayer::executor_type;
    using config_type = websocket_session_config;
    using message_type = websocket_message;
    using send_options = websocket_message_kind;
    struct outgoing_tag {
        bool text = false;
    };
    static constexpr bool receive_payload_only = false;
    using core_type = detail::session_core<websocket_link>;
    using error_code = boost::system::error_code;
    // Held through a pointer: Beast's stream is only declared in the public headers.
    using stream_storage = std::unique_ptr<stream_type>;
    static stream_type& stream_of(const stream_storage& s) noexcept { return *s; }
    static stream_storage store(stream_type&& s) {
        return std::make_unique<stream_type>(std::move(s));
    }

    static std::optional<config_error> validate(const config_type& c) {
        return heartbeat::validate(c);
    }
    static constexpr const char* protocol_label() noexcept { return "ws"; } // metrics label

    explicit websocket_link(core_type& core) : core_(core) {}

    // ---- for the session core (see stream_link.hpp) ----------------------------------------
    // The upgrade is done before the session starts: no handshake of the session's own.
    duration handshake_timeout() const noexcept { return duration::max(); }
    void start();
    void on_stop();
    void abort_io();
    void wake_writer() { pump_writer(); } // async_send's initiation: write the first frame now
    void queue_ping(std::uint64_t seq, time_point now);
    void resume_reader();
    template <class Outgoing>
    bool writing(const Outgoing& m, std::size_t) const noexcept {
        return writing_id_ == m.id;
    }
    error_code admit(std::string&, const send_options& kind, outgoing_tag& tag) noexcept {
        tag.text = kind == websocket_message_kind::text;
        return {};
    }
    bool accept_taken(message_type&) noexcept { return true; }
    void on_taken() noexcept {}

private:
    using timer_type = boost::asio::steady_timer;
    struct heartbeat_message { // application-level heartbeat (text data message)
        std::string text;
        std::uint64_t ping_seq = 0; // non-zero: our ping; 0: our answer to the peer's ping
    };
    struct sent_ping {
        std::uint64_t seq = 0;
        std::uint64_t send_time_us = 0;
    };
    // Pings remembered to recognise their pongs; as many as the monitor keeps in flight (a
    // verdict with max_missed up to 7 has all of its pings here). A pong for an older one
    // counts as traffic, not as an answer. Per session, so kept small.
    static constexpr std::size_t sent_ring_size = 8;
    static constexpr std::size_t read_room_min = 256;
    static constexpr std::size_t read_room_max = 64 * 1024;
    // Bytes of an unfinished message that count as proof of life (see on_read).
    static constexpr std::size_t partial_life_bytes = 4 * 1024;

    stream_type& ws() noexcept;
    const config_type& config() const noexcept;
    detail::session_shared_stats& stats() noexcept;
    auto& socket();
    bool flushing() const noexcept; // close() called: the writer flushes the queue first

    // reader
    void pump_reader();
    void on_read(error_code ec, std::size_t n);
    // FrameType: websocket::frame_type, declared only in Beast's heavy stream.hpp.
    template <class FrameType>
    void on_control(FrameType kind, boost::beast::string_view payload);
    void on_message(std::string&& payload, bool text, time_point now);
    void inbound(time_point now);
    void answered(std::uint64_t seq, time_point now);
    bool take_sent(std::uint64_t seq, std::uint64_t send_time_us);

    // writer and pinger
    void wake_writer_later();
    void pump_writer();
    void on_written(error_code ec, bool heartbeat);
    void writer_finished();
    void wake_pinger();
    void pump_pinger();
    void on_pinged(error_code ec, std::uint64_t seq);
    void pinger_finished();
    void write_failed(error_code ec);

    // ending (websocket_link_ending.hpp)
    void begin_ending();
    void notify();
    template <class Pred>
    boost::asio::awaitable<bool> wait_for(Pred done, time_point deadline);
    boost::asio::awaitable<error_code> ending();
    boost::asio::awaitable<void> farewell(error_code reason);

    // Beast 1.81 can leave two of its operations waiting for each other for ever: a read that
    // fails the connection (a protocol violation right after a ping) waits for the write lock
    // that a close holds while that close waits for the read lock (found by
    // websocket_session_fuzzer). Closing the socket does not wake them; a terminal cancellation
    // does. The read and the close are bound to these signals, and the ending emits them once
    // the connection is torn down. Writes and pings need none: the ending starts the close only
    // once none of ours is in flight, and a write that waits for the write lock gets it when
    // the close completes.
    enum op_kind { read_op, close_op, op_kinds };
    template <class Handler>
    auto unstickable(op_kind kind, Handler&& handler) {
        return boost::asio::bind_cancellation_slot(unstick_[kind].slot(),
                                                   std::forward<Handler>(handler));
    }
    std::array<boost::asio::cancellation_signal, op_kinds> unstick_;

    core_type& core_;
    // The ending sleeps on it; cancelled on every change. Created when the ending first waits.
    std::unique_ptr<timer_type> notify_timer_;
    unsigned running_ = 0; // loops and close/wait operations not yet completed
    bool ending_started_ = false;
    bool writer_started_ = false;     // start() has set the stream up: the writer may write
    bool writer_wake_posted_ = false; // a posted pump_writer() is pending
    bool notify_waiting_ = false;     // the ending sleeps on notify_timer_
    bool pinger_idle_ = false;        // no ping queued, none in flight: wake_pinger() restarts
    bool reader_paused_ = false;      // the receive buffer is full: no read outstanding
    bool reader_resume_posted_ = false;
    bool write_in_flight_ = false; // an async_write / async_write_some of ours is pending
    bool ping_in_flight_ = false;  // an async_ping of ours is pending
    bool writer_done_ = false, pinger_done_ = false;
    bool close_done_ = false;       // async_close completed
    bool close_flushed_ = false;    // the socket accepted the close frame
    std::size_t writing_chunk_ = 0; // bytes of the queued message's frame being written
    std::uint64_t writing_id_ = 0;  // message whose frame is being written
    heartbeat_message heartbeat_writing_;
    // A short payload keeps its bytes inside the string object, which moves when the queue
    // grows: its frame is written from here instead.
    std::array<char, sizeof(std::string)> short_payload_stage_{};
    detail::ring_queue<heartbeat_message> heartbeat_out_;
    detail::ring_queue<sent_ping> pings_queued_;
    std::array<sent_ping, sent_ring_size> sent_{}; // pings in flight, by seq % size
    // The message being read is read straight into its own buffer: Beast fills
    // assembling_[assembled_, size()).
    std::string assembling_;
    std::size_t assembled_ = 0;
    std::size_t partial_unproven_ = 0; // bytes of the message read since they last proved life
    std::uint64_t next_in_seq_ = 1;
};

} // namespace heartbeat
