#include <heartbeat/protocol/mqtt/detail/mqtt_wire.hpp>

#include <cassert>

namespace heartbeat::mqtt::detail {
namespace {

constexpr std::uint8_t continuation_bit = 0x80;
constexpr std::uint8_t value_bits = 0x7F;

std::string_view as_chars(std::span<const std::uint8_t> bytes) noexcept {
    return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// A multi-byte UTF-8 sequence as announced by its lead byte. `minimum` is the smallest code
// point that needs this many bytes: anything smaller is an overlong (forbidden) encoding.
struct utf8_sequence {
    std::size_t length;
    std::uint32_t lead_bits;
    std::uint32_t minimum;
};

std::optional<utf8_sequence> utf8_sequence_of(std::uint8_t lead) noexcept {
    if ((lead & 0xE0) == 0xC0) {
        return utf8_sequence{2, lead & 0x1Fu, 0x80};
    }
    if ((lead & 0xF0) == 0xE0) {
        return utf8_sequence{3, lead & 0x0Fu, 0x800};
    }
    if ((lead & 0xF8) == 0xF0) {
        return utf8_sequence{4, lead & 0x07u, 0x10000};
    }
    return std::nullopt;
}

} // namespace

std::size_t variable_byte_integer_size(std::uint32_t value) noexcept {
    assert(value <= max_variable_byte_integer);
    if (value < 128) {
        return 1;
    }
    if (value < 16'384) {
        return 2;
    }
    if (value < 2'097'152) {
        return 3;
    }
    return 4;
}

variable_byte_integer read_variable_byte_integer(std::span<const std::uint8_t> bytes) noexcept {
    std::uint32_t value = 0;
    for (std::size_t i = 0; i < max_variable_byte_integer_size; ++i) {
        if (i == bytes.size()) {
            return {.st = variable_byte_integer::status::need_more};
        }
        const std::uint8_t b = bytes[i];
        value |= static_cast<std::uint32_t>(b & value_bits) << (7 * i);
        if ((b & continuation_bit) == 0) {
            return {.st = variable_byte_integer::status::complete, .value = value, .size = i + 1};
        }
    }
    return {.st = variable_byte_integer::status::malformed};
}

void put_u8(std::string& out, std::uint8_t value) {
    out.push_back(static_cast<char>(value));
}

void put_u16(std::string& out, std::uint16_t value) {
    put_u8(out, static_cast<std::uint8_t>(value >> 8));
    put_u8(out, static_cast<std::uint8_t>(value));
}

void put_u32(std::string& out, std::uint32_t value) {
    put_u16(out, static_cast<std::uint16_t>(value >> 16));
    put_u16(out, static_cast<std::uint16_t>(value));
}

void put_variable_byte_integer(std::string& out, std::uint32_t value) {
    assert(value <= max_variable_byte_integer);
    do {
        std::uint8_t b = value & value_bits;
        value >>= 7;
        if (value != 0) {
            b |= continuation_bit;
        }
        put_u8(out, b);
    } while (value != 0);
}

void put_length_prefixed(std::string& out, std::string_view bytes) {
    assert(bytes.size() <= max_string_size);
    put_u16(out, static_cast<std::uint16_t>(bytes.size()));
    out.append(bytes);
}

std::optional<std::uint8_t> wire_reader::u8() noexcept {
    if (bytes_.empty()) {
        return std::nullopt;
    }
    const std::uint8_t value = bytes_[0];
    bytes_ = bytes_.subspan(1);
    return value;
}

std::optional<std::uint16_t> wire_reader::u16() noexcept {
    if (bytes_.size() < 2) {
        return std::nullopt;
    }
    const auto value = static_cast<std::uint16_t>(bytes_[0] << 8 | bytes_[1]);
    bytes_ = bytes_.subspan(2);
    return value;
}

std::optional<std::uint32_t> wire_reader::u32() noexcept {
    if (bytes_.size() < 4) {
        return std::nullopt;
    }
    const std::uint32_t value = std::uint32_t{bytes_[0]} << 24 | std::uint32_t{bytes_[1]} << 16 |
                                std::uint32_t{bytes_[2]} << 8 | std::uint32_t{bytes_[3]};
    bytes_ = bytes_.subspan(4);
    return value;
}

std::optional<std::uint32_t> wire_reader::variable_byte_integer() noexcept {
    const auto vbi = read_variable_byte_integer(bytes_);
    if (vbi.st != variable_byte_integer::status::complete) {
        return std::nullopt;
    }
    bytes_ = bytes_.subspan(vbi.size);
    return vbi.value;
}

std::optional<std::string_view> wire_reader::length_prefixed() noexcept {
    if (bytes_.size() < 2) {
        return std::nullopt;
    }
    const std::size_t length = std::size_t{bytes_[0]} << 8 | bytes_[1];
    if (bytes_.size() - 2 < length) {
        return std::nullopt;
    }
    const auto value = bytes_.subspan(2, length);
    bytes_ = bytes_.subspan(2 + length);
    return as_chars(value);
}

std::optional<std::span<const std::uint8_t>> wire_reader::bytes(std::size_t n) noexcept {
    if (bytes_.size() < n) {
        return std::nullopt;
    }
    const auto value = bytes_.first(n);
    bytes_ = bytes_.subspan(n);
    return value;
}

bool is_valid_mqtt_string(std::string_view s) noexcept {
    std::size_t i = 0;
    while (i < s.size()) {
        const auto lead = static_cast<std::uint8_t>(s[i]);
        if (lead == 0x00) {
            return false;
        }
        if (lead < 0x80) {
            ++i;
            continue;
        }
        const auto sequence = utf8_sequence_of(lead);
        if (!sequence) {
            return false; // a continuation byte or 0xF8..0xFF where a character must start
        }
        const std::size_t length = sequence->length;
        std::uint32_t code_point = sequence->lead_bits;
        if (s.size() - i < length) {
            return false;
        }
        for (std::size_t k = 1; k < length; ++k) {
            const auto b = static_cast<std::uint8_t>(s[i + k]);
            if ((b & 0xC0) != 0x80) {
                return false;
            }
            code_point = code_point << 6 | (b & 0x3F);
        }
        const bool surrogate = code_point >= 0xD800 && code_point <= 0xDFFF;
        if (code_point < sequence->minimum || code_point > 0x10FFFF || surrogate) {
            return false;
        }
        i += length;
    }
    return true;
}

} // namespace heartbeat::mqtt::detail
