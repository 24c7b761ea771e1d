#include <heartbeat/protocol/native/frame_codec.hpp>

#include <boost/endian/conversion.hpp>

#include <cassert>
#include <cstring>
#include <limits>

namespace heartbeat {
namespace {

namespace endian = boost::endian;

constexpr std::size_t hello_payload_size = 34;
constexpr std::size_t ping_payload_size = 16; // also PONG
constexpr std::size_t ack_payload_size = 8;
constexpr std::size_t timed_ack_payload_size = 12;
constexpr std::size_t slow_down_payload_size = 4;
constexpr std::size_t close_code_size = 2;

template <class... Fs>
struct overloaded : Fs... {
    using Fs::operator()...;
};
// Aggregate deduction would make this redundant, but Clang before 17 does not implement it.
template <class... Fs>
overloaded(Fs...) -> overloaded<Fs...>;

std::size_t payload_size(const frame& f) noexcept {
    return std::visit(overloaded{
                          [](const hello_frame&) { return hello_payload_size; },
                          [](const data_frame& d) { return d.payload.size(); },
                          [](const ping_frame&) { return ping_payload_size; },
                          [](const pong_frame&) { return ping_payload_size; },
                          [](const ack_frame& a) {
                              return a.delay_us ? timed_ack_payload_size : ack_payload_size;
                          },
                          [](const slow_down_frame&) { return slow_down_payload_size; },
                          [](const close_frame& c) { return close_code_size + c.reason.size(); },
                      },
                      f);
}

std::uint8_t flags_of(const frame& f) noexcept {
    const auto* d = std::get_if<data_frame>(&f);
    return d != nullptr && d->fin ? flag_fin : 0;
}

void encode_payload(const frame& f, std::uint8_t* p) noexcept {
    std::visit(overloaded{
                   [p](const hello_frame& h) {
                       endian::store_big_u16(p, h.version);
                       endian::store_big_u32(p + 2, h.min_interval_ms);
                       endian::store_big_u32(p + 6, h.max_interval_ms);
                       endian::store_big_u64(p + 10, h.session_id);
                       endian::store_big_u64(p + 18, h.features);
                       endian::store_big_u64(p + 26, h.first_seq);
                   },
                   [p](const data_frame& d) {
                       // memcpy from an empty span's null data() is undefined, even for 0 bytes.
                       if (!d.payload.empty())
                           std::memcpy(p, d.payload.data(), d.payload.size());
                   },
                   [p](const ping_frame& ping) {
                       endian::store_big_u64(p, ping.seq);
                       endian::store_big_u64(p + 8, ping.send_time_us);
                   },
                   [p](const pong_frame& pong) {
                       endian::store_big_u64(p, pong.seq);
                       endian::store_big_u64(p + 8, pong.send_time_us);
                   },
                   [p](const ack_frame& a) {
                       endian::store_big_u64(p, a.delivered);
                       if (a.delay_us)
                           endian::store_big_u32(p + 8, *a.delay_us);
                   },
                   [p](const slow_down_frame& s) { endian::store_big_u32(p, s.min_interval_ms); },
                   [p](const close_frame& c) {
                       endian::store_big_u16(p, c.code);
                       if (!c.reason.empty())
                           std::memcpy(p + close_code_size, c.reason.data(), c.reason.size());
                   },
               },
               f);
}

// Everything that can be judged from the header alone, so a bad frame is refused before its
// payload is waited for or buffered.
boost::system::error_code check_header(std::uint8_t type, std::uint8_t flags, std::uint32_t length,
                                       std::size_t max_payload) noexcept {
    if (type < static_cast<std::uint8_t>(frame_type::hello) ||
        type > static_cast<std::uint8_t>(frame_type::close))
        return error::unknown_frame_type;
    if (length > max_payload)
        return error::frame_too_large;
    const auto t = static_cast<frame_type>(type);
    const std::uint8_t allowed_flags = t == frame_type::data ? flag_fin : 0;
    if ((flags & ~allowed_flags) != 0)
        return error::malformed_frame;
    bool length_ok = true;
    switch (t) {
    case frame_type::hello:
        length_ok = length == hello_payload_size;
        break;
    case frame_type::data:
        break;
    case frame_type::ping:
    case frame_type::pong:
        length_ok = length == ping_payload_size;
        break;
    case frame_type::ack:
        length_ok = length == ack_payload_size || length == timed_ack_payload_size;
        break;
    case frame_type::slow_down:
        length_ok = length == slow_down_payload_size;
        break;
    case frame_type::close:
        length_ok = length >= close_code_size;
        break;
    }
    if (!length_ok)
        return error::malformed_frame;
    return {};
}

// Precondition: check_header accepted the header, so the payload has the type's size.
frame decode_payload(frame_type type, std::uint8_t flags, const std::uint8_t* p,
                     std::size_t length) noexcept {
    switch (type) {
    case frame_type::hello:
        return hello_frame{
            .version = endian::load_big_u16(p),
            .min_interval_ms = endian::load_big_u32(p + 2),
            .max_interval_ms = endian::load_big_u32(p + 6),
            .session_id = endian::load_big_u64(p + 10),
            .features = endian::load_big_u64(p + 18),
            .first_seq = endian::load_big_u64(p + 26),
        };
    case frame_type::data:
        return data_frame{.fin = (flags & flag_fin) != 0, .payload = {p, length}};
    case frame_type::ping:
        return ping_frame{.seq = endian::load_big_u64(p),
                          .send_time_us = endian::load_big_u64(p + 8)};
    case frame_type::pong:
        return pong_frame{.seq = endian::load_big_u64(p),
                          .send_time_us = endian::load_big_u64(p + 8)};
    case frame_type::ack:
        return ack_frame{.delivered = endian::load_big_u64(p),
                         .delay_us = length == timed_ack_payload_size
                                         ? std::optional(endian::load_big_u32(p + 8))
                                         : std::nullopt};
    case frame_type::slow_down:
        return slow_down_frame{.min_interval_ms = endian::load_big_u32(p)};
    case frame_type::close:
        return close_frame{
            .code = endian::load_big_u16(p),
            .reason = {reinterpret_cast<const char*>(p) + close_code_size,
                       length - close_code_size},
        };
    }
    return {}; // unreachable: check_header rejected unknown types
}

} // namespace

std::size_t encoded_size(const frame& f) noexcept {
    return frame_header_size + payload_size(f);
}

void encode_header(frame_type type, std::uint8_t flags, std::uint32_t payload_length,
                   std::uint8_t* out) noexcept {
    out[0] = static_cast<std::uint8_t>(type);
    out[1] = flags;
    endian::store_big_u32(out + 2, payload_length);
}

std::size_t encode(const frame& f, std::span<std::uint8_t> out) noexcept {
    const std::size_t length = payload_size(f);
    assert(length <= std::numeric_limits<std::uint32_t>::max());
    assert(out.size() >= frame_header_size + length);
    encode_header(type_of(f), flags_of(f), static_cast<std::uint32_t>(length), out.data());
    encode_payload(f, out.data() + frame_header_size);
    return frame_header_size + length;
}

void encode_append(const frame& f, std::vector<std::uint8_t>& out) {
    const std::size_t old_size = out.size();
    out.resize(old_size + encoded_size(f));
    encode(f, std::span{out}.subspan(old_size));
}

parse_result parse_frame(std::span<const std::uint8_t> input, std::size_t max_payload) noexcept {
    using status = parse_result::status;
    if (input.size() < frame_header_size)
        return {.st = status::need_more, .need = frame_header_size};
    const std::uint8_t* p = input.data();
    const std::uint8_t type = p[0];
    const std::uint8_t flags = p[1];
    const std::uint32_t length = endian::load_big_u32(p + 2);
    if (auto ec = check_header(type, flags, length, max_payload))
        return {.st = status::error, .ec = ec};
    // Cannot overflow: length <= max_payload, and the caller buffers that much anyway.
    const std::size_t total = frame_header_size + length;
    if (input.size() < total)
        return {.st = status::need_more, .need = total};
    return {.st = status::frame,
            .consumed = total,
            .value = decode_payload(static_cast<frame_type>(type), flags, p + frame_header_size,
                                    length)};
}

void frame_decoder::feed(std::span<const std::uint8_t> bytes) {
    if (error_ || bytes.empty())
        return;
    // Compacting here, not in next(), keeps the views next() handed out valid until now.
    if (consumed_ == buffer_.size()) {
        buffer_.clear();
    } else if (consumed_ > 0) {
        buffer_.erase(buffer_.begin(), buffer_.begin() + static_cast<std::ptrdiff_t>(consumed_));
    }
    consumed_ = 0;
    buffer_.insert(buffer_.end(), bytes.begin(), bytes.end());
}

parse_result frame_decoder::next() noexcept {
    if (error_)
        return {.st = parse_result::status::error, .ec = error_};
    auto result = parse_frame(std::span{buffer_}.subspan(consumed_), max_payload_);
    switch (result.st) {
    case parse_result::status::frame:
        consumed_ += result.consumed;
        break;
    case parse_result::status::error:
        error_ = result.ec;
        break;
    case parse_result::status::need_more:
        break;
    }
    return result;
}

boost::system::error_code frame_decoder::finish() const noexcept {
    if (error_)
        return error_;
    if (buffered() != 0)
        return error::truncated_frame;
    return {};
}

} // namespace heartbeat
