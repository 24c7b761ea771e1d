#pragma once
// Many native sessions on one executor, for processes that keep thousands of peers: the members
// of a pool share one config, one set of callbacks, one timer and one read buffer, and their
// heartbeats are decided by one peer_monitor_table (the sans-io monitor of heartbeat_monitor's
// rules, 32 bytes per peer, on a timing wheel). Where a tcp_session holds its own timer, monitor,
// queues, stats and pending read (about 3.3 KB), a member holds its socket, an 80-byte record,
// its table record and one readiness wait (docs/scale.md has the figures).
//
// Each member speaks the native wire protocol (frame_codec.hpp) and interoperates with
// tcp_session, tcp_server and the client supervisor's sessions: HELLO both ways, PING/PONG,
// DATA messages (chunked at config.session.chunk_size), cumulative ACKs, CLOSE.
//
// How it stays cheap:
//  * One timer for the whole pool, armed for the table's next event (no steady_timer per peer).
//  * The pings due at one tick are written in one pass with non-blocking send()s: no write
//    operation, no handler, no allocation per ping. So are pongs, ACKs and messages; only the
//    bytes a full socket refuses are queued, per member, with a wait for writability.
//  * Reads wait for readiness (async_wait) and drain into the pool's one buffer; a complete
//    message is handed to on_message as a view into it, without a copy. Only a frame cut across
//    reads is kept per member.
//
// What a tcp_session has and a member does not: completion-token operations per member
// (async_send's completion, async_receive's back-pressure: on_message runs as bytes arrive),
// resumption (session_id, resume store), per-member intervals (a peer whose HELLO range or
// SLOW_DOWN asks for another interval than the pool's ends with incompatible_interval), ping
// policing of the peer, the phi-accrual detector and the adaptive pong timeout (the table's
// subset: missed-count, both liveness modes, the local-stall guard), RTT statistics per member
// (the pool keeps the sum and count of every measured round trip), metrics and log records.
//
// Threading: one io_context run by one thread (readiness waits rely on it), and the pool is not
// thread-safe: call it from that thread. Callbacks run there too, and may call the pool back
// (send, close, add); after close(id) or an ending, the id is refused with no_such_member.
#include <heartbeat/core/config.hpp>
#include <heartbeat/core/heartbeat_monitor.hpp>
#include <heartbeat/protocol/native/session_config.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

namespace heartbeat {

// A member, for as long as it lives: a later member in the same slot has another generation, so
// a stale id is refused rather than reaching it.
struct pool_member_id {
    std::uint32_t index = 0;
    std::uint32_t generation = 0;
    bool operator==(const pool_member_id&) const = default;
};

// How a member ended: why, and what it had not written of what send() accepted.
struct pool_member_ending {
    boost::system::error_code reason; // peer_dead, peer_closed, session_closed, a protocol error
    std::size_t unsent_messages = 0;  // accepted by send(), not (fully) written to the socket
    std::size_t unsent_bytes = 0;
};

struct session_pool_callbacks {
    // The peer's HELLO arrived: the member is open (messages may come).
    std::function<void(pool_member_id)> on_open;
    // A complete message; the view is valid during the call only.
    std::function<void(pool_member_id, std::string_view)> on_message;
    // alive -> suspect (a ping missed) and back.
    std::function<void(pool_member_id, peer_state)> on_state;
    // Exactly once per member add() accepted, whatever ended it; the id is dead from here.
    std::function<void(pool_member_id, const pool_member_ending&)> on_ended;
};

struct session_pool_config {
    // The members' heartbeat and limits, with session_config's meaning. Used: heartbeat
    // (missed-count detector, fixed pong timeout), max_frame_payload, max_message_size,
    // chunk_size, min/max_peer_ping_interval (advertised in HELLO; the peer's pings are not
    // policed), max_negotiated_interval, first_seq, tcp_keepalive. Not used, as a pool has no
    // use for them: handshake_timeout (a peer without HELLO ends at the silence budget),
    // close_timeout (CLOSE is written without waiting), receive_buffer_limit (on_message runs as
    // bytes arrive), event_queue_capacity, ack_delay (one ACK per read that delivered). Refused
    // by validate(), as a pool cannot honour them: resume, session_id, metrics, log, phi
    // accrual, adaptive pong timeout.
    session_config session{};
    // Members at most; the table's records for all of them are allocated up front (~50 B each).
    std::size_t capacity = 1024;
    // Bytes a member may have queued behind a socket that takes no more; send() beyond it fails
    // with send_buffer_full (the message is not queued).
    std::size_t send_queue_limit = 1u << 20;
    // The pool's timer fires at most this often: verdicts and pings land up to this late, and a
    // pool of 10k members wakes up at most 1/timer_slack times a second for heartbeats.
    duration timer_slack = milliseconds(2);
};

std::optional<config_error> validate(const session_pool_config& c);

struct session_pool_stats {
    std::size_t members = 0; // added and not ended (handshaking or open)
    std::size_t open = 0;    // of which their peer's HELLO arrived
    std::uint64_t added = 0;
    std::uint64_t ended = 0;
    std::uint64_t verdicts = 0; // ended with peer_dead (or handshake_timeout)
    std::uint64_t pings_sent = 0;
    std::uint64_t pongs_received = 0;
    std::uint64_t pings_answered = 0;
    std::uint64_t messages_sent = 0; // accepted by send()
    std::uint64_t messages_received = 0;
    std::uint64_t rtt_samples = 0;
    duration rtt_sum{}; // over rtt_samples round trips (whole milliseconds: the table's tick)
    std::size_t queued_send_bytes = 0;
    std::uint64_t timer_wakeups = 0;
};

class session_pool {
public:
    using executor_type = boost::asio::io_context::executor_type;
    // A member's socket holds the io_context's executor (8 bytes), not an any_io_executor.
    using socket_type = boost::asio::basic_stream_socket<boost::asio::ip::tcp, executor_type>;

    // Throws boost::system::system_error(error::invalid_config) naming the field validate()
    // refused.
    session_pool(boost::asio::io_context& ioc, session_pool_config config,
                 session_pool_callbacks callbacks = {});
    // Ends every member at once (its socket closes; on_ended is not called: the pool is gone).
    ~session_pool();
    session_pool(const session_pool&) = delete;
    session_pool& operator=(const session_pool&) = delete;

    // Starts a member on a connected socket: writes our HELLO and monitors the peer from now.
    // pool_full (the socket is closed) when capacity members are live; a socket error as it is
    // set up ends the member at once, with on_ended.
    pool_member_id add(socket_type socket, boost::system::error_code& ec);
    // The same for a socket of the default executor type: its connection moves to a socket_type
    // on the pool's io_context (no operation may be pending on it). Errors of that move come
    // back in ec, without on_ended (the member never existed).
    pool_member_id add(boost::asio::ip::tcp::socket socket, boost::system::error_code& ec);

    // Queues one message (DATA frames) and writes what the socket takes now. no_such_member;
    // send_buffer_full when the member's queue would pass send_queue_limit (nothing queued);
    // session_closed after close(id). Accepted messages not written when the member ends are
    // counted in its pool_member_ending.
    boost::system::error_code send(pool_member_id id, std::string_view message);

    // Ends the member with session_closed once its queued bytes are written (bounded by the
    // heartbeat: a peer that takes nothing is declared dead), saying CLOSE to the peer.
    boost::system::error_code close(pool_member_id id);

    // connecting while its HELLO is awaited; dead is never seen (an ended id is refused).
    std::optional<peer_state> state(pool_member_id id) const;
    session_pool_stats stats() const;
    const session_pool_config& config() const noexcept;
    executor_type get_executor() const noexcept;

    struct impl;

private:
    std::shared_ptr<impl> impl_; // shared with the pending waits, which may outlive the pool
};

} // namespace heartbeat
