#pragma once
// The MQTT data representations (3.1.1 §1.5, 5 §1.5) shared by every packet's encoder and
// decoder: big-endian integers, Variable Byte Integers, and length-prefixed strings. Pure byte
// handling with no packet knowledge, so it sits below the packet headers.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace heartbeat::mqtt::detail {

// The largest value four Variable Byte Integer bytes can carry (0xFF 0xFF 0xFF 0x7F).
inline constexpr std::uint32_t max_variable_byte_integer = 268'435'455;
inline constexpr std::size_t max_variable_byte_integer_size = 4;
// Strings and binary data carry a 2-byte length prefix.
inline constexpr std::size_t max_string_size = 65'535;

// 1 to 4. Precondition: value <= max_variable_byte_integer.
std::size_t variable_byte_integer_size(std::uint32_t value) noexcept;

struct variable_byte_integer {
    enum class status : std::uint8_t { complete, need_more, malformed };
    status st = status::need_more;
    std::uint32_t value = 0;
    std::size_t size = 0; // bytes the integer occupied (st == complete)
};

// Reads the integer at the start of `bytes`. A 4th byte that still has the continuation bit is
// malformed as soon as it is seen: no valid encoding needs a 5th byte. Non-minimal encodings
// (0x80 0x00 for 0) are accepted; the specs only oblige senders to be minimal.
variable_byte_integer read_variable_byte_integer(std::span<const std::uint8_t> bytes) noexcept;

// ---- Writing: each appends to `out` --------------------------------------------------------

void put_u8(std::string& out, std::uint8_t value);
void put_u16(std::string& out, std::uint16_t value);
void put_u32(std::string& out, std::uint32_t value);
// Precondition: value <= max_variable_byte_integer.
void put_variable_byte_integer(std::string& out, std::uint32_t value);
// UTF-8 strings and binary data share the layout: u16 length, then the bytes.
// Precondition: bytes.size() <= max_string_size.
void put_length_prefixed(std::string& out, std::string_view bytes);

// ---- Reading -------------------------------------------------------------------------------

// A cursor over a complete packet. A read that would run past the end returns nullopt and
// consumes nothing, so decoders turn any truncation into one malformed_frame check.
class wire_reader {
public:
    explicit wire_reader(std::span<const std::uint8_t> bytes) noexcept : bytes_(bytes) {}

    std::optional<std::uint8_t> u8() noexcept;
    std::optional<std::uint16_t> u16() noexcept;
    std::optional<std::uint32_t> u32() noexcept;
    // Incomplete and malformed integers both give nullopt: inside a complete packet, running out
    // of bytes is itself malformed.
    std::optional<std::uint32_t> variable_byte_integer() noexcept;
    // A u16 length then that many bytes; the view points into the input.
    std::optional<std::string_view> length_prefixed() noexcept;
    std::optional<std::span<const std::uint8_t>> bytes(std::size_t n) noexcept;

    std::size_t remaining() const noexcept { return bytes_.size(); }
    std::span<const std::uint8_t> rest() const noexcept { return bytes_; }

private:
    std::span<const std::uint8_t> bytes_;
};

// MQTT strings must be well-formed UTF-8 (no surrogates, no overlong forms, nothing above
// U+10FFFF) and must not contain U+0000 (3.1.1 §1.5.3, 5 §1.5.4).
bool is_valid_mqtt_string(std::string_view s) noexcept;

} // namespace heartbeat::mqtt::detail
