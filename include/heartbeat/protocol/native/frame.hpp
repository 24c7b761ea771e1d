#pragma once
// Frames of the native wire protocol, as values. frame_codec.hpp turns them into bytes and back
// and documents the byte layout.
//
// Frames decoded from a buffer are views: data_frame::payload and close_frame::reason point into
// the bytes they were parsed from, so decoding never copies or allocates.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <type_traits>
#include <variant>

namespace heartbeat {

inline constexpr std::uint16_t protocol_version = 1;
inline constexpr std::size_t frame_header_size = 6;

enum class frame_type : std::uint8_t {
    hello = 1,
    data = 2,
    ping = 3,
    pong = 4,
    ack = 5,
    slow_down = 6,
    close = 7,
};

// The only flag bit defined by the protocol, and only on DATA frames.
inline constexpr std::uint8_t flag_fin = 0x01;

// HELLO feature bits. An implementation that knows none sends 0 and ignores what it receives
// (the field was `delivered`, always 0), so a feature is used only towards a peer that
// announced it.
// timed ACK: this side accepts ACKs that carry how long the acknowledged message waited in
// the receiver (12-byte ACK payload), from which it takes round-trip samples under traffic.
inline constexpr std::uint64_t feature_timed_ack = 0x1;

// Handshake: each side announces the interval range it accepts, and which session it resumes.
struct hello_frame {
    std::uint16_t version = protocol_version;
    std::uint32_t min_interval_ms = 0;
    std::uint32_t max_interval_ms = 0;
    std::uint64_t session_id = 0; // 0 asks for a new session
    std::uint64_t features = 0;   // feature_* bits this side supports
    // Sequence number of the first DATA message this side sends on this connection; messages
    // are numbered from 1 across a logical session, so a receiver can tell (and drop) resent
    // duplicates after a reconnect.
    std::uint64_t first_seq = 1;
    bool operator==(const hello_frame&) const = default;
};

// One chunk of an application message. Large messages are split so control frames can be
// written between the chunks; `fin` marks the chunk that completes the message.
struct data_frame {
    bool fin = true;
    std::span<const std::uint8_t> payload;
    // By content: two frames parsed from different buffers are equal if they carry the same bytes.
    bool operator==(const data_frame& other) const {
        return fin == other.fin && std::ranges::equal(payload, other.payload);
    }
};

// `send_time_us` is the sender's own clock; the pong echoes it back so the sender can compute
// the round trip without trusting the peer's clock.
struct ping_frame {
    std::uint64_t seq = 0;
    std::uint64_t send_time_us = 0;
    bool operator==(const ping_frame&) const = default;
};

struct pong_frame {
    std::uint64_t seq = 0;
    std::uint64_t send_time_us = 0;
    bool operator==(const pong_frame&) const = default;
};

// Cumulative, so a lost or coalesced ACK costs nothing: the next one carries the whole truth.
struct ack_frame {
    std::uint64_t delivered = 0; // highest sequence number the receiving application took
    // Timed ACK (only to a peer that announced feature_timed_ack): microseconds from the
    // arrival of message `delivered` to this ACK's writing, which the peer subtracts from the
    // time since it wrote that message to get the round trip.
    std::optional<std::uint32_t> delay_us{};
    bool operator==(const ack_frame&) const = default;
};

// A server's warning, sent before it closes a peer that pings too often.
struct slow_down_frame {
    std::uint32_t min_interval_ms = 0;
    bool operator==(const slow_down_frame&) const = default;
};

// `reason` is meant to be UTF-8 but is not validated: it is diagnostic text, and refusing a
// close over a bad byte in it would help nobody. Escape it before printing.
struct close_frame {
    std::uint16_t code = 0;
    std::string_view reason;
    bool operator==(const close_frame&) const = default; // string_view compares by content
};

// Alternatives are in frame_type order, so the variant index maps directly to the type byte.
using frame = std::variant<hello_frame, data_frame, ping_frame, pong_frame, ack_frame,
                           slow_down_frame, close_frame>;

static_assert(std::is_same_v<std::variant_alternative_t<0, frame>, hello_frame>);
static_assert(std::is_same_v<std::variant_alternative_t<6, frame>, close_frame>);
static_assert(std::variant_size_v<frame> == static_cast<std::size_t>(frame_type::close));

inline frame_type type_of(const frame& f) noexcept {
    return static_cast<frame_type>(f.index() + 1);
}

// Stable lowercase names, used in logs and JSON events.
inline const char* to_string(frame_type t) noexcept {
    switch (t) {
    case frame_type::hello:
        return "hello";
    case frame_type::data:
        return "data";
    case frame_type::ping:
        return "ping";
    case frame_type::pong:
        return "pong";
    case frame_type::ack:
        return "ack";
    case frame_type::slow_down:
        return "slow_down";
    case frame_type::close:
        return "close";
    }
    return "unknown";
}

} // namespace heartbeat
