#pragma once
// stream_link<Profile, Stream>: the I/O of a session over a connected byte stream (TCP, TLS,
// Unix socket, or your own AsyncReadStream + AsyncWriteStream), for any byte-stream protocol
// profile (byte_stream_profile.hpp). Three strands of work on the stream's executor, none of
// them a coroutine while the session runs:
//   reader  - one read outstanding; the profile parses what it brought, frame by frame;
//   writer  - control bytes (pings, pongs, acks, the handshake) first, then queued messages:
//             small ones batched into one write, a large one chunk by chunk where the profile
//             lets a ping slip between chunks; started directly by whoever queues something;
//   ending  - once the reader has ended the session, the writer stops, then the goodbye (the
//             only coroutine, spawned then) and the core completes the run.
// The heartbeat timer is the core's. The member functions are defined in stream_link_*.hpp.
//
// Stream requirements (session/session_stream.hpp): executor_type and get_executor(),
// async_read_some, async_write_some (as asio::async_write uses it). Optional, used when
// present: lowest_layer(), cancel(ec) (to stop a pending read at once: without it, the session
// ends when the peer next sends or closes), shutdown(what, ec), close(ec), and a TCP socket
// gets keepalive options.
#include <heartbeat/detail/ring_queue.hpp>
#include <heartbeat/session/byte_stream_profile.hpp>
#include <heartbeat/session/session.hpp>
#include <heartbeat/session/session_stream.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/steady_timer.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <type_traits>
#include <vector>

namespace heartbeat {

template <byte_stream_profile Profile, class Stream>
class stream_link {
    static_assert(stream_with_executor<Stream>,
                  "heartbeat: a session's Stream needs `using executor_type = ...;` and "
                  "`executor_type get_executor()`");
    static_assert(async_read_stream<Stream>,
                  "heartbeat: a session's Stream needs async_read_some(MutableBufferSequence, "
                  "handler) with the handler void(error_code, std::size_t): an AsyncReadStream");
    static_assert(async_write_stream<Stream>,
                  "heartbeat: a session's Stream needs async_write_some(ConstBufferSequence, "
                  "handler) with the handler void(error_code, std::size_t): an AsyncWriteStream");

public:
    using profile_type = Profile;
    using stream_type = Stream;
    using executor_type = typename Stream::executor_type;
    using config_type = typename Profile::config_type;
    using message_type = typename Profile::message_type;
    using send_options = typename Profile::send_options;
    using outgoing_tag = typename Profile::outgoing_tag;
    static constexpr bool receive_payload_only = Profile::receive_payload_only;
    using core_type = detail::session_core<stream_link>;
    using error_code = boost::system::error_code;
    using stream_storage = Stream;
    static Stream& stream_of(Stream& s) noexcept { return s; }
    static Stream store(Stream&& s) { return std::move(s); }

    static std::optional<config_error> validate(const config_type& c) {
        return Profile::validate(c);
    }
    // The `protocol` label of its metrics: the profile's, "custom" for a profile without one.
    static constexpr const char* protocol_label() noexcept {
        if constexpr (requires { Profile::protocol_label; })
            return Profile::protocol_label;
        else
            return "custom";
    }

    explicit stream_link(core_type& core);

    // ---- for the session core -------------------------------------------------------------
    duration handshake_timeout() const noexcept { return config().handshake_timeout; }
    void start();
    void on_stop();  // the core set its stop reason: finish, resuming nothing inline
    void abort_io(); // stop the reader and the writer at once (cancel the stream's operations)
    void wake_writer();
    void queue_ping(std::uint64_t seq, time_point now);
    void resume_reader();
    // A message none of whose bytes are written (nor being written) may still be withdrawn.
    template <class Outgoing>
    bool writing(const Outgoing&, std::size_t index) const noexcept {
        return index < in_write_;
    }
    error_code admit(std::string& payload, const send_options& options, outgoing_tag& tag) {
        return profile_.admit(payload, options, tag);
    }
    bool accept_taken(message_type& m);
    void on_taken(); // the application took messages from the inbox

    // ---- for the profile: its frame context (see byte_stream_profile.hpp) -------------------
    time_point now() const noexcept { return now_; }
    void traffic() noexcept { saw_inbound_ = true; }
    error_code pong(std::uint64_t seq);
    // A round trip measured without a ping (a timed ACK of a numbered message).
    error_code rtt_sample(duration sample);
    error_code reply(message_type&& m);
    void deliver(message_type&& m);
    std::string make_payload(std::span<const std::uint8_t> bytes);
    void recycle(std::string&& payload);
    std::vector<std::uint8_t>& control() noexcept { return control_out_; }
    error_code handshake_done(duration interval);
    void set_interval(duration interval);
    void wake_at(time_point t);
    // A ping the monitor does not watch (in_order profiles), written with what the writer is
    // about to write: for protocols whose peer must hear from us regularly (MQTT keep-alive).
    void queue_keepalive_ping();
    // in_order profiles: a reply is awaited (a ping's or a request's).
    bool awaiting_reply() const noexcept;
    detail::session_shared_stats& stats() noexcept;
    const session_callbacks& callbacks() const noexcept;
    const config_type& config() const noexcept;
    bool ended() const noexcept;        // the run has completed
    duration interval() const noexcept; // the monitor's current interval
    Profile& profile() noexcept { return profile_; }

private:
    using timer_type = boost::asio::steady_timer;

    // reader (stream_link_reader.hpp)
    void start_reader();
    void read_next();
    void on_read(error_code ec, std::size_t n);
    error_code take_read(error_code ec, std::size_t n);
    void reader_finish(error_code reason);

    // writer (stream_link_writer.hpp)
    void write_next();
    bool write_control_alone();
    auto written_handler();
    void on_written(error_code ec, std::size_t n);
    void writer_finish(error_code reason);
    void wake_writer_later();
    void note_requests_in_order();

    // ending (stream_link_ending.hpp)
    void after_reader();
    void say_farewell();
    boost::asio::awaitable<void> farewell(error_code reason);
    boost::asio::awaitable<void> drain_until_eof();
    boost::asio::awaitable<void> close_deadline(timer_type& timer);

    Stream& stream() noexcept;
    bool stopping() const noexcept; // stop reason set and not draining after close()

    core_type& core_;
    Profile profile_;
    time_point now_{};

    error_code writer_result_;
    std::size_t in_write_ = 0; // send queue entries [0, in_write_) are in the write in flight
    std::vector<boost::asio::const_buffer> write_buffers_;
    static constexpr std::size_t max_batch_frames = 16;
    static constexpr std::size_t coalesce_limit = 1024;
    static constexpr std::size_t max_suffix = 8;
    // Where the framing of one write's messages is staged; allocated by the first message, since
    // a session that only heartbeats never writes one.
    struct message_staging {
        std::array<std::array<std::uint8_t, Profile::max_prefix + 1>, max_batch_frames> prefixes;
        // Prefix, payload and suffix of a short (SSO) payload, copied: its bytes live inside the
        // string, which moves when the send queue grows during the write.
        std::array<std::array<std::uint8_t, Profile::max_prefix + sizeof(std::string) + max_suffix>,
                   max_batch_frames>
            short_frames;
        std::array<std::size_t, max_batch_frames> chunk_sizes; // per send queue entry written
        std::array<std::size_t, max_batch_frames> frame_sizes; // chunk plus its framing
        std::vector<std::uint8_t> coalesced; // a small batch, copied into one buffer
    };
    std::unique_ptr<message_staging> staging_;
    std::uint32_t batch_entries_ = 0; // send queue entries in the write in flight
    std::uint32_t data_frames_ = 0;
    time_point write_started_{};
    std::vector<std::uint8_t> control_out_;     // control bytes waiting to be written
    std::vector<std::uint8_t> control_writing_; // the control bytes being written
    std::vector<std::uint64_t> pings_queued_;   // ping seqs in control_out_ (0: not monitored)
    std::vector<std::uint64_t> pings_writing_;
    // in_order profiles: what the replies will answer, in the order the requests were written:
    // a ping (its seq, the top bit set) or a request awaiting that many replies.
    static constexpr std::uint64_t ping_bit = std::uint64_t{1} << 63;
    struct nothing_awaited {};
    [[no_unique_address]] std::conditional_t<Profile::matching == ping_matching::in_order,
                                             detail::ring_queue<std::uint64_t, 8>, nothing_awaited>
        awaiting_;

    // Wakes the idle writer for something due later (an ACK, a keep-alive). Created on first
    // use: most sessions mostly idle and never need it.
    std::unique_ptr<timer_type> wake_timer_;
    time_point wake_due_{};

    std::vector<std::uint8_t> read_buffer_;
    std::size_t read_begin_ = 0, read_end_ = 0;
    error_code reader_result_;

    // The writer: idle with nothing to write, or one async_write in flight, or done. The
    // reader: one read outstanding, or paused while the inbox is over its limit, or done.
    bool saw_inbound_ = false; // the read being parsed brought proof of life
    bool writer_idle_ = false;
    bool writer_done_ = false;
    bool farewell_waits_for_writer_ = false; // the reader has ended: writer_finish() goes on
    bool stream_dirty_ = false; // a write was cut short: no further frame may follow it
    bool wake_armed_ = false;
    bool reader_paused_ = false;
    bool reader_resume_posted_ = false;
    bool reader_done_ = false;
};

} // namespace heartbeat
