#pragma once
// websocket_session<NextLayer>: heartbeats over an RFC 6455 WebSocket (Boost.Beast). It is the
// one session template (session/session.hpp) with the WebSocket link
// (protocol/websocket/websocket_link.hpp), so it has the surface of every session: async_run,
// async_send (+ a message kind, async_send_text), async_receive (a websocket_message),
// async_wait_event, close, cancel, stats and session_callbacks. All policy is the sans-io
// heartbeat_monitor's; the link only drives Beast.
//
// Heartbeats are WebSocket ping control frames. Each ping's payload is 16 bytes, big-endian:
// the sequence number (8 bytes) then our send time in microseconds of the steady clock
// (8 bytes). Every RFC 6455 peer (browsers, Node's `ws`, Beast, ...) must answer a ping with a
// pong echoing its payload, so RTT is measured against any of them. A pong is matched to its
// ping by that payload; a pong that matches no ping of ours (unsolicited pongs are allowed by
// RFC 6455 section 5.5.3, and browsers send them) counts as inbound traffic, never as an answer
// and never as a protocol error.
//
// How it runs (on the stream's executor: the reader, the writer, the pinger and the heartbeat
// timer are driven by the completions of their own operations; no coroutine frame lives while
// the session runs, only the ending is a coroutine):
//   reader    - one websocket read is always outstanding: Beast answers the peer's pings and
//               reports pongs (through its control callback) only while a read is pending;
//   writer    - writes messages as frames of at most `fragment_size` bytes, one
//               async_write_some per frame, so...
//   pinger    - ...a ping (async_ping) waits for at most one frame: Beast serialises control
//               frames between the frames of a fragmented message, never inside a frame. The
//               pong deadline runs from the moment async_ping completed, i.e. when the ping left;
//   heartbeat - one timer driven by the heartbeat_monitor (the session core's).
// (A ping still queues behind bytes already handed to the kernel: a large send buffer on a slow
// link delays pongs however small the frames are, exactly as for the native protocol.)
// Beast's own idle timeout and keep-alive pings are switched off (stream_base::timeout with
// idle_timeout = none, keep_alive_pings = false) so the two mechanisms never fight.
//
// Endings: on a verdict the session sends a close frame with code 1011 (internal error, reason
// "peer_dead") if the transport still accepts writes, then tears the connection down without
// waiting for the peer's reply; close() flushes queued messages, sends code 1000 (normal) and
// waits for the peer's close frame. Both are bounded by `close_timeout`.
//
// Application-level heartbeat (websocket_app_heartbeat, off by default): a pong proves only
// that the peer's WebSocket *transport* is alive. When that transport can outlive the
// application -- a reverse proxy or load balancer that terminates WebSockets and answers pings
// itself, a browser whose network service keeps answering while the page's JavaScript thread
// is wedged, a server whose I/O thread answers while its worker pool is deadlocked -- enable it
// (and use liveness_mode::pong_only so the transport's traffic is not taken for proof of
// life). The heartbeats are then small text messages
//     {"hb":"ping","seq":N,"t":T}
// ("hb" is the configurable `key`) which the application on the other side must send back:
// either unchanged (any echo does that) or as {"hb":"pong","seq":N,"t":T}. A session with the
// app heartbeat enabled answers such pings from its peer with the pong form itself and never
// delivers heartbeat messages to async_receive. Control pings are not sent in this mode (Beast
// still answers the peer's). Being data messages, these heartbeats cannot overtake a message
// that is halfway written; they go out at the next message boundary, ahead of queued messages.
// Size pong_timeout for the peer application's slowest answer (a busy event loop, a GC pause),
// not for the network's: the app heartbeat measures the application, so it also reports a
// merely slow one. Leave it off when the peer's pong already comes from the application itself
// (a Beast, ws or similar server in the same process as its logic), which is the common case.
//
// Threading: every member function may be called from any thread; work is dispatched to the
// stream's executor. On a multi-threaded io_context give the stream a strand executor.
// Completions: never inline. A send or receive whose handler's associated executor is the
// stream's is completed straight from the run loop (inside the write or read completion that
// finished it, so without another trip through the scheduler); any other handler is posted
// and runs on its own executor. An exception thrown by a handler leaves io_context::run().
// async_send called on the stream's executor writes the message's first frame before it
// returns when nothing else is being written.
//
// Lifetime: the session must outlive its async_run operation; async_send / async_receive /
// async_wait_event complete (with the reason the session ended) before async_run does.
//
// The run loop is compiled once (src/websocket_instantiations.cpp) for plain TCP and TLS over
// TCP; include <heartbeat/protocol/websocket/websocket_session_impl.hpp> in one .cpp of yours to
// use websocket_session<your_next_layer>.
//
// stats(): bytes_* count message payload bytes; frames_sent counts data frames written
// (application heartbeats included), frames_received completed reads of message data (at least
// one per non-empty frame); pings_answered counts the peer's pings (Beast answers control pings
// itself) and, with the app heartbeat, its heartbeat messages we answered. delivered_seq is the
// websocket_message seq of the last message received. duplicates_dropped, peer_acked,
// ping_strikes and slow_downs_* stay 0: WebSocket has no such notions.
#include <heartbeat/protocol/websocket/websocket_config.hpp>
#include <heartbeat/protocol/websocket/websocket_heartbeat_codec.hpp>
#include <heartbeat/protocol/websocket/websocket_link.hpp>
#include <heartbeat/session/session.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/stream.hpp>

namespace heartbeat {

template <class NextLayer>
using websocket_session = session<websocket_link<NextLayer>>;

using ws_session = websocket_session<boost::asio::ip::tcp::socket>;
using wss_session = websocket_session<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>;

extern template class session<websocket_link<boost::asio::ip::tcp::socket>>;
extern template class session<
    websocket_link<boost::asio::ssl::stream<boost::asio::ip::tcp::socket>>>;

} // namespace heartbeat
