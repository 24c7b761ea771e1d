#pragma once
// What a WebSocket session is configured with and what it delivers.
#include <heartbeat/core/config.hpp>
#include <heartbeat/core/log_sink.hpp>
#include <heartbeat/metrics/series_labels.hpp>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

namespace heartbeat::metrics {
class registry;
} // namespace heartbeat::metrics

namespace heartbeat {

enum class websocket_message_kind { binary, text };
const char* to_string(websocket_message_kind k) noexcept;

// A received WebSocket message.
struct websocket_message {
    std::string payload;
    websocket_message_kind kind = websocket_message_kind::binary;
    std::uint64_t seq = 0; // 1 for the first message received on this connection, and so on
    bool text() const noexcept { return kind == websocket_message_kind::text; }
};

// See "Application-level heartbeat" in websocket_session.hpp.
struct websocket_app_heartbeat {
    bool enabled = false;
    // The JSON key of the heartbeat messages: {"<key>":"ping","seq":N,"t":T}. Letters, digits,
    // '_' and '-' only, 1 to 32 of them.
    std::string key = "hb";
};

struct websocket_session_config {
    monitor_config heartbeat{};

    // Outgoing messages are written as frames of at most this many bytes (one async_write_some
    // each), so a ping waits for at most one frame. Beast's auto_fragment is switched off.
    std::size_t fragment_size = 64u * 1024;
    // Largest inbound message (Beast's read_message_max): a bigger one fails the connection
    // with close code 1009 and the session ends with error::message_too_large.
    std::size_t max_message_size = 64u << 20;
    // Bytes of received messages waiting for async_receive before the reader pauses. A paused
    // reader also stops answering pings and seeing pongs: keep it large enough for your
    // slowest consumer.
    std::size_t receive_buffer_limit = 64u << 20;
    // Bound on the ending: flushing queued messages after close(), writing the close frame and
    // (after close()) waiting for the peer's close frame.
    duration close_timeout = seconds(2);
    // As session_config::tcp_keepalive: SO_KEEPALIVE tuned to the heartbeat budget, and
    // TCP_USER_TIMEOUT, TCP_NODELAY on the underlying TCP socket.
    bool tcp_keepalive = true;
    // Awaitable events kept for async_wait_event; the oldest is dropped (and counted) beyond.
    std::size_t event_queue_capacity = 256;
    websocket_app_heartbeat app_heartbeat{};
    // Observability (docs/observability.md). `metrics`: the registry this session reports
    // into (null = off). `metrics_labels`: its series' labels (the client and the servers set
    // them; null = role "client", no endpoint or peer; an empty protocol becomes the session's
    // own). Shared, so a session config grows by a pointer, not by four strings. `log`: state
    // changes, the ending and an invalid config as structured records (empty = silent).
    std::shared_ptr<metrics::registry> metrics;
    std::shared_ptr<const metrics::series_labels> metrics_labels;
    log_sink log;
};

std::optional<config_error> validate(const websocket_session_config& c);

} // namespace heartbeat
