#pragma once
// Sans-io codec for the native wire format: frames to bytes and bytes to frames, with no
// sockets, clocks or threads, so every byte sequence can be tested exactly.
//
// Wire layout, all integers big-endian:
//
//   header     type u8 | flags u8 | payload length u32                       6 bytes
//   HELLO  1   version u16 | min_interval_ms u32 | max_interval_ms u32 |
//              session_id u64 | features u64 | first_seq u64                34 bytes
//   DATA   2   chunk bytes; flag FIN (0x01) marks a message's last chunk     any length
//   PING   3   seq u64 | send_time_us u64                                   16 bytes
//   PONG   4   seq u64 | send_time_us u64 (echoed from the ping)            16 bytes
//   ACK    5   delivered u64 [| delay_us u32: a timed ACK]              8 or 12 bytes
//   SLOW_DOWN 6  min_interval_ms u32                                         4 bytes
//   CLOSE  7   code u16 | reason bytes (the rest of the payload)           >= 2 bytes
//
// Any flag other than FIN on DATA, and any flag at all on other types, is malformed. Reserving
// them lets a future version give them meaning without old peers misreading the frame.
#include <heartbeat/core/error.hpp>
#include <heartbeat/protocol/native/frame.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace heartbeat {

// ---- Encoding -------------------------------------------------------------------------------
// Preconditions for all encoders: a DATA payload, and a CLOSE reason plus its 2-byte code, fit
// in the u32 length field. Callers chunk DATA well below that (the peer's max payload).

// Header plus payload.
std::size_t encoded_size(const frame& f) noexcept;

// Precondition: out.size() >= encoded_size(f). Returns the bytes written (= encoded_size(f)).
std::size_t encode(const frame& f, std::span<std::uint8_t> out) noexcept;

// Appends the encoded frame to `out`.
void encode_append(const frame& f, std::vector<std::uint8_t>& out);

// Writes just the 6 header bytes, so a driver can send a big DATA payload straight from the
// application's buffer as the second buffer of a gathered write instead of copying it.
void encode_header(frame_type type, std::uint8_t flags, std::uint32_t payload_length,
                   std::uint8_t* out) noexcept;

// ---- Decoding -------------------------------------------------------------------------------

struct parse_result {
    enum class status { frame, need_more, error };

    status st = status::need_more;
    // st == frame: the bytes of input the frame occupied; drop them before parsing the next.
    std::size_t consumed = 0;
    // st == need_more: the input must be at least this long, counted from its start, before
    // parsing can progress (the header, or the whole frame once the header is known good).
    std::size_t need = 0;
    // st == error: unknown_frame_type, frame_too_large or malformed_frame. The stream cannot be
    // resynchronised after any of them, so the connection must be closed.
    boost::system::error_code ec{};
    // st == frame: the frame; its spans and string_views point into the parsed input.
    frame value{};
};

// Parses the frame at the start of `input` without copying or allocating. The header alone is
// enough to reject a frame (unknown type, length above max_payload, bad flags, wrong size for
// a fixed-size type), so a hostile length claim is refused before anyone waits for or buffers
// its payload.
parse_result parse_frame(std::span<const std::uint8_t> input, std::size_t max_payload) noexcept;

// The hot path of a driver's reader: a complete, well-formed DATA frame at the start of `input`,
// decoded inline without building a frame. Anything else (another type, an incomplete frame, a
// header parse_frame would reject) gives nullopt: parse_frame then decides. For every input on
// which it returns a value, parse_frame returns the same DATA frame.
struct data_frame_view {
    std::span<const std::uint8_t> payload;
    bool fin = true;
    std::size_t consumed = 0; // header plus payload
};
inline std::optional<data_frame_view> peek_data_frame(std::span<const std::uint8_t> input,
                                                      std::size_t max_payload) noexcept {
    if (input.size() < frame_header_size)
        return std::nullopt;
    const std::uint8_t* p = input.data();
    if (p[0] != static_cast<std::uint8_t>(frame_type::data) || (p[1] & ~flag_fin) != 0)
        return std::nullopt;
    const std::uint32_t length = std::uint32_t{p[2]} << 24 | std::uint32_t{p[3]} << 16 |
                                 std::uint32_t{p[4]} << 8 | std::uint32_t{p[5]};
    if (length > max_payload || input.size() - frame_header_size < length)
        return std::nullopt;
    return data_frame_view{input.subspan(frame_header_size, length), (p[1] & flag_fin) != 0,
                           frame_header_size + length};
}

// Decodes a byte stream that arrives in arbitrary slices (for drivers that do not own a
// contiguous read buffer). Feed bytes, then call next() until it stops returning frames.
class frame_decoder {
public:
    explicit frame_decoder(std::size_t max_payload) noexcept : max_payload_{max_payload} {}

    // Copies `bytes` after the unconsumed ones. Bytes already returned as frames are dropped
    // first, so as long as next() is drained between feeds the buffer holds at most one partial
    // frame (<= max_payload + frame_header_size) plus this slice. Ignored after an error.
    void feed(std::span<const std::uint8_t> bytes);

    // The next complete frame, need_more (`need` counts from the first unconsumed byte, i.e.
    // need - buffered() more bytes are required), or an error, which is sticky: every later call
    // returns it again. Views in the frame stay valid until the next feed().
    parse_result next() noexcept;

    // At end of stream: {} if nothing is buffered, truncated_frame if a frame was cut short (or
    // complete frames were left unread), or the sticky error from next().
    boost::system::error_code finish() const noexcept;

    // Bytes fed but not yet returned as frames.
    std::size_t buffered() const noexcept { return buffer_.size() - consumed_; }

    std::size_t max_payload() const noexcept { return max_payload_; }

private:
    std::size_t max_payload_;
    std::vector<std::uint8_t> buffer_;
    std::size_t consumed_ = 0; // prefix of buffer_ already returned as frames
    boost::system::error_code error_;
};

} // namespace heartbeat
