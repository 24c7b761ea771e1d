#include <heartbeat/protocol/native/frame_codec.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <deque>
#include <limits>
#include <ostream>
#include <random>
#include <string>
#include <vector>

namespace heartbeat {

// Readable failure messages. `static` keeps these out of other test files' way; ADL finds them
// because they live in the frames' namespace.
static void PrintTo(const hello_frame& h, std::ostream* os) {
    *os << "hello{v=" << h.version << " min=" << h.min_interval_ms << " max=" << h.max_interval_ms
        << " session=" << h.session_id << " features=" << h.features << " first_seq=" << h.first_seq
        << "}";
}
static void PrintTo(const data_frame& d, std::ostream* os) {
    *os << "data{fin=" << d.fin << " size=" << d.payload.size() << "}";
}
static void PrintTo(const ping_frame& p, std::ostream* os) {
    *os << "ping{seq=" << p.seq << " t=" << p.send_time_us << "}";
}
static void PrintTo(const pong_frame& p, std::ostream* os) {
    *os << "pong{seq=" << p.seq << " t=" << p.send_time_us << "}";
}
static void PrintTo(const ack_frame& a, std::ostream* os) {
    *os << "ack{" << a.delivered;
    if (a.delay_us)
        *os << " delay_us=" << *a.delay_us;
    *os << "}";
}
static void PrintTo(const slow_down_frame& s, std::ostream* os) {
    *os << "slow_down{" << s.min_interval_ms << "}";
}
static void PrintTo(const close_frame& c, std::ostream* os) {
    *os << "close{" << c.code << " \"" << c.reason << "\"}";
}
static void PrintTo(parse_result::status s, std::ostream* os) {
    switch (s) {
    case parse_result::status::frame:
        *os << "frame";
        return;
    case parse_result::status::need_more:
        *os << "need_more";
        return;
    case parse_result::status::error:
        *os << "error";
        return;
    }
}

namespace {

using bytes = std::vector<std::uint8_t>;
using status = parse_result::status;

constexpr std::size_t generous_max = 1 << 20;
constexpr std::uint64_t u64_max = std::numeric_limits<std::uint64_t>::max();
constexpr std::uint32_t u32_max = std::numeric_limits<std::uint32_t>::max();
constexpr std::uint16_t u16_max = std::numeric_limits<std::uint16_t>::max();

bytes encoded(const frame& f) {
    bytes out;
    encode_append(f, out);
    return out;
}

// Built by hand rather than with encode_header, so decoder tests do not trust the encoder.
bytes raw_frame(std::uint8_t type, std::uint8_t flags, std::uint32_t length,
                std::size_t payload_present) {
    bytes out{type,
              flags,
              static_cast<std::uint8_t>(length >> 24),
              static_cast<std::uint8_t>(length >> 16),
              static_cast<std::uint8_t>(length >> 8),
              static_cast<std::uint8_t>(length)};
    out.resize(out.size() + payload_present, 0x5A);
    return out;
}

bytes raw_frame(std::uint8_t type, std::uint8_t flags, std::uint32_t length) {
    return raw_frame(type, flags, length, length);
}

std::span<const std::uint8_t> prefix(const bytes& b, std::size_t n) {
    return {b.data(), n};
}

constexpr std::uint8_t type_byte(frame_type t) {
    return static_cast<std::uint8_t>(t);
}

struct fixed_size_type {
    frame_type type;
    std::uint32_t size;
};
constexpr fixed_size_type fixed_size_types[] = {
    {frame_type::hello, 34}, {frame_type::ping, 16},     {frame_type::pong, 16},
    {frame_type::ack, 8},    {frame_type::slow_down, 4},
};

// ---- Round trips and exact bytes ------------------------------------------------------------

TEST(FrameCodecRoundTrip, EveryTypeWithBoundaryValues) {
    const bytes big_payload(1000, 0xC3);
    const std::uint8_t one_byte[] = {0x00};
    const std::vector<frame> frames = {
        hello_frame{},
        hello_frame{.version = 0, .min_interval_ms = 0, .max_interval_ms = 0},
        hello_frame{.version = u16_max,
                    .min_interval_ms = u32_max,
                    .max_interval_ms = u32_max,
                    .session_id = u64_max,
                    .features = u64_max,
                    .first_seq = u64_max},
        data_frame{.fin = true, .payload = {}},
        data_frame{.fin = false, .payload = {}},
        data_frame{.fin = true, .payload = one_byte},
        data_frame{.fin = false, .payload = big_payload},
        ping_frame{.seq = 0, .send_time_us = 0},
        ping_frame{.seq = u64_max, .send_time_us = u64_max},
        pong_frame{.seq = 0, .send_time_us = 0},
        pong_frame{.seq = u64_max, .send_time_us = u64_max},
        ack_frame{.delivered = 0},
        ack_frame{.delivered = u64_max},
        ack_frame{.delivered = 7, .delay_us = 0},
        ack_frame{.delivered = u64_max, .delay_us = u32_max},
        slow_down_frame{.min_interval_ms = 0},
        slow_down_frame{.min_interval_ms = u32_max},
        close_frame{.code = 0, .reason = ""},
        close_frame{.code = u16_max, .reason = "going away"},
        close_frame{.code = 1000, .reason = "d\xC3\xA9j\xC3\xA0 vu"}, // UTF-8 "déjà vu"
    };
    for (const auto& f : frames) {
        SCOPED_TRACE(testing::PrintToString(f));
        const bytes wire = encoded(f);
        EXPECT_EQ(wire.size(), encoded_size(f));
        const auto r = parse_frame(wire, generous_max);
        ASSERT_EQ(r.st, status::frame) << r.ec.message();
        EXPECT_EQ(r.consumed, wire.size());
        EXPECT_EQ(r.value, f);
        EXPECT_EQ(type_of(r.value), type_of(f));
    }
}

TEST(FrameCodecRoundTrip, ExactBytesOfEveryType) {
    const std::uint8_t chunk[] = {0xAA, 0xBB};
    struct golden {
        frame value;
        bytes wire;
    };
    const golden cases[] = {
        {hello_frame{.version = 0x0102,
                     .min_interval_ms = 0x03040506,
                     .max_interval_ms = 0x0708090A,
                     .session_id = 0x1112131415161718,
                     .features = 0x2122232425262728,
                     .first_seq = 0x3132333435363738},
         {0x01, 0x00, 0x00, 0x00, 0x00, 0x22, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08,
          0x09, 0x0A, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x21, 0x22, 0x23, 0x24,
          0x25, 0x26, 0x27, 0x28, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37, 0x38}},
        {data_frame{.fin = true, .payload = chunk}, {0x02, 0x01, 0, 0, 0, 0x02, 0xAA, 0xBB}},
        {data_frame{.fin = false, .payload = chunk}, {0x02, 0x00, 0, 0, 0, 0x02, 0xAA, 0xBB}},
        {ping_frame{.seq = 0x0102030405060708, .send_time_us = 0x1112131415161718},
         {0x03, 0x00, 0,    0,    0,    0x10, 0x01, 0x02, 0x03, 0x04, 0x05,
          0x06, 0x07, 0x08, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18}},
        {pong_frame{.seq = 0x0102030405060708, .send_time_us = 0x1112131415161718},
         {0x04, 0x00, 0,    0,    0,    0x10, 0x01, 0x02, 0x03, 0x04, 0x05,
          0x06, 0x07, 0x08, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18}},
        {ack_frame{.delivered = 0x0102030405060708},
         {0x05, 0x00, 0, 0, 0, 0x08, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08}},
        {ack_frame{.delivered = 0x0102030405060708, .delay_us = 0x11121314},
         {0x05, 0x00, 0, 0, 0, 0x0C, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x11, 0x12,
          0x13, 0x14}},
        {slow_down_frame{.min_interval_ms = 0x01020304},
         {0x06, 0x00, 0, 0, 0, 0x04, 0x01, 0x02, 0x03, 0x04}},
        {close_frame{.code = 0x03E8, .reason = "bye"},
         {0x07, 0x00, 0, 0, 0, 0x05, 0x03, 0xE8, 'b', 'y', 'e'}},
    };
    for (const auto& c : cases) {
        SCOPED_TRACE(testing::PrintToString(c.value));
        EXPECT_EQ(encoded(c.value), c.wire);
        const auto r = parse_frame(c.wire, generous_max);
        ASSERT_EQ(r.st, status::frame) << r.ec.message();
        EXPECT_EQ(r.value, c.value);
    }
}

TEST(FrameCodecEncode, EncodeWritesExactlyEncodedSizeBytes) {
    const frame f = close_frame{.code = 7, .reason = "why"};
    bytes out(64, 0xEE);
    const std::size_t written = encode(f, out);
    EXPECT_EQ(written, frame_header_size + 5);
    EXPECT_EQ(out[written - 1], 'y');
    EXPECT_EQ(out[written], 0xEE);
}

TEST(FrameCodecEncode, AppendKeepsWhatWasAlreadyThere) {
    bytes out{0x42, 0x43};
    encode_append(ack_frame{.delivered = 9}, out);
    encode_append(ack_frame{.delivered = 10}, out);
    ASSERT_EQ(out.size(), 2 + 2 * (frame_header_size + 8));
    EXPECT_EQ(out[0], 0x42);
    EXPECT_EQ(out[1], 0x43);
    EXPECT_EQ(out[2], type_byte(frame_type::ack));
    EXPECT_EQ(out[2 + 13], 9);
    EXPECT_EQ(out[2 + 14 + 13], 10);
}

TEST(FrameCodecEncode, HeaderAloneMatchesTheWholeFrameEncoding) {
    const bytes payload(300, 0x11);
    const frame f = data_frame{.fin = false, .payload = payload};
    std::uint8_t header[frame_header_size];
    encode_header(frame_type::data, 0, static_cast<std::uint32_t>(payload.size()), header);
    bytes gathered(header, header + frame_header_size);
    gathered.insert(gathered.end(), payload.begin(), payload.end());
    EXPECT_EQ(gathered, encoded(f));
}

TEST(FrameCodecNames, TypeOfAndToString) {
    EXPECT_EQ(type_of(hello_frame{}), frame_type::hello);
    EXPECT_EQ(type_of(data_frame{}), frame_type::data);
    EXPECT_EQ(type_of(ping_frame{}), frame_type::ping);
    EXPECT_EQ(type_of(pong_frame{}), frame_type::pong);
    EXPECT_EQ(type_of(ack_frame{}), frame_type::ack);
    EXPECT_EQ(type_of(slow_down_frame{}), frame_type::slow_down);
    EXPECT_EQ(type_of(close_frame{}), frame_type::close);
    EXPECT_STREQ(to_string(frame_type::hello), "hello");
    EXPECT_STREQ(to_string(frame_type::data), "data");
    EXPECT_STREQ(to_string(frame_type::ping), "ping");
    EXPECT_STREQ(to_string(frame_type::pong), "pong");
    EXPECT_STREQ(to_string(frame_type::ack), "ack");
    EXPECT_STREQ(to_string(frame_type::slow_down), "slow_down");
    EXPECT_STREQ(to_string(frame_type::close), "close");
    EXPECT_STREQ(to_string(static_cast<frame_type>(99)), "unknown");
}

TEST(FrameCodecEquality, DataAndCloseCompareByContent) {
    const bytes a{1, 2, 3};
    const bytes b{1, 2, 3};
    const bytes c{1, 2, 4};
    EXPECT_EQ((data_frame{.fin = true, .payload = a}), (data_frame{.fin = true, .payload = b}));
    EXPECT_NE((data_frame{.fin = true, .payload = a}), (data_frame{.fin = true, .payload = c}));
    EXPECT_NE((data_frame{.fin = true, .payload = a}), (data_frame{.fin = false, .payload = a}));
    const std::string r1 = "same";
    const std::string r2 = "same";
    EXPECT_EQ((close_frame{.code = 1, .reason = r1}), (close_frame{.code = 1, .reason = r2}));
    EXPECT_NE((close_frame{.code = 1, .reason = r1}), (close_frame{.code = 2, .reason = r1}));
}

TEST(FrameCodecParse, ViewsPointIntoTheInput) {
    const bytes payload{9, 8, 7};
    const bytes data_wire = encoded(data_frame{.fin = true, .payload = payload});
    const auto d = parse_frame(data_wire, generous_max);
    ASSERT_EQ(d.st, status::frame);
    EXPECT_EQ(std::get<data_frame>(d.value).payload.data(), data_wire.data() + frame_header_size);

    const bytes close_wire = encoded(close_frame{.code = 1, .reason = "r"});
    const auto c = parse_frame(close_wire, generous_max);
    ASSERT_EQ(c.st, status::frame);
    EXPECT_EQ(static_cast<const void*>(std::get<close_frame>(c.value).reason.data()),
              static_cast<const void*>(close_wire.data() + frame_header_size + 2));
}

TEST(FrameCodecParse, ConsumesOnlyTheFirstFrame) {
    bytes wire = encoded(ping_frame{.seq = 1});
    const std::size_t first = wire.size();
    encode_append(pong_frame{.seq = 2}, wire);
    const auto r = parse_frame(wire, generous_max);
    ASSERT_EQ(r.st, status::frame);
    EXPECT_EQ(r.consumed, first);
    EXPECT_EQ(r.value, frame{ping_frame{.seq = 1}});
}

// ---- Randomised: back-to-back frames in arbitrary slices -------------------------------------

class random_frames {
public:
    explicit random_frames(std::mt19937_64& rng, std::size_t max_payload)
        : rng_{rng}, max_payload_{max_payload} {}

    frame next() {
        switch (uniform(1, 7)) {
        case 1:
            return hello_frame{.version = static_cast<std::uint16_t>(value()),
                               .min_interval_ms = static_cast<std::uint32_t>(value()),
                               .max_interval_ms = static_cast<std::uint32_t>(value()),
                               .session_id = value(),
                               .features = value(),
                               .first_seq = value()};
        case 2:
            return data_frame{.fin = uniform(0, 1) == 1, .payload = store_bytes(payload_size())};
        case 3:
            return ping_frame{.seq = value(), .send_time_us = value()};
        case 4:
            return pong_frame{.seq = value(), .send_time_us = value()};
        case 5:
            return uniform(0, 1) == 1 ? ack_frame{.delivered = value()}
                                      : ack_frame{.delivered = value(),
                                                  .delay_us = static_cast<std::uint32_t>(value())};
        case 6:
            return slow_down_frame{.min_interval_ms = static_cast<std::uint32_t>(value())};
        default: {
            const auto reason =
                store_bytes(std::min<std::size_t>(payload_size(), max_payload_ - 2));
            return close_frame{
                .code = static_cast<std::uint16_t>(value()),
                .reason = {reinterpret_cast<const char*>(reason.data()), reason.size()}};
        }
        }
    }

private:
    std::uint64_t uniform(std::uint64_t lo, std::uint64_t hi) {
        return std::uniform_int_distribution<std::uint64_t>{lo, hi}(rng_);
    }
    // Boundaries are where codecs break, so they come up far more often than chance would have.
    std::uint64_t value() {
        switch (uniform(0, 3)) {
        case 0:
            return 0;
        case 1:
            return u64_max;
        default:
            return rng_();
        }
    }
    std::size_t payload_size() {
        switch (uniform(0, 9)) {
        case 0:
            return 0;
        case 1:
            return max_payload_;
        case 2:
            return uniform(0, max_payload_);
        default:
            return uniform(0, 100);
        }
    }
    std::span<const std::uint8_t> store_bytes(std::size_t n) {
        auto& b = storage_.emplace_back(n);
        for (auto& byte : b)
            byte = static_cast<std::uint8_t>(rng_());
        return b;
    }

    std::mt19937_64& rng_;
    std::size_t max_payload_;
    std::deque<bytes> storage_; // deque: element addresses survive emplace_back
};

TEST(FrameCodecRandom, DecoderAndParserRecoverEveryFrameFromRandomSlices) {
    constexpr std::size_t max_payload = 2048;
    constexpr int sequences = 3000;
    std::mt19937_64 rng{0x6865617274626561}; // fixed: failures must reproduce
    std::size_t frames_checked = 0;
    for (int sequence = 0; sequence < sequences; ++sequence) {
        SCOPED_TRACE("sequence " + std::to_string(sequence));
        random_frames gen{rng, max_payload};
        std::vector<frame> expected;
        bytes wire;
        const auto count = std::uniform_int_distribution<int>{1, 20}(rng);
        for (int i = 0; i < count; ++i) {
            expected.push_back(gen.next());
            encode_append(expected.back(), wire);
        }

        // Whole-buffer parsing, as a driver with its own read buffer does it.
        std::size_t offset = 0;
        for (const auto& want : expected) {
            const auto r = parse_frame(std::span{wire}.subspan(offset), max_payload);
            ASSERT_EQ(r.st, status::frame) << r.ec.message();
            ASSERT_EQ(r.value, want);
            offset += r.consumed;
        }
        ASSERT_EQ(offset, wire.size());

        // Incremental decoding. A third of the sequences use 1-byte slices throughout.
        constexpr std::array<std::size_t, 6> slice_limits{1, 1, 2, 7, 100, 5000};
        const std::size_t max_slice = slice_limits[std::uniform_int_distribution<std::size_t>{
            0, slice_limits.size() - 1}(rng)];
        frame_decoder decoder{max_payload};
        std::size_t next_expected = 0;
        std::vector<frame> since_feed;
        for (offset = 0; offset < wire.size();) {
            const std::size_t slice =
                std::min(wire.size() - offset,
                         std::uniform_int_distribution<std::size_t>{1, max_slice}(rng));
            decoder.feed(std::span{wire}.subspan(offset, slice));
            offset += slice;
            since_feed.clear();
            parse_result r;
            while ((r = decoder.next()).st == status::frame)
                since_feed.push_back(r.value);
            ASSERT_EQ(r.st, status::need_more) << r.ec.message();
            ASSERT_GT(r.need, decoder.buffered());
            ASSERT_LE(decoder.buffered(), max_payload + frame_header_size);
            // Checked only now: every view handed out since the feed must still be intact.
            for (const auto& got : since_feed) {
                ASSERT_LT(next_expected, expected.size());
                ASSERT_EQ(got, expected[next_expected]);
                ++next_expected;
            }
        }
        ASSERT_EQ(next_expected, expected.size());
        EXPECT_EQ(decoder.buffered(), 0u);
        EXPECT_FALSE(decoder.finish()) << decoder.finish().message();
        frames_checked += expected.size();
    }
    EXPECT_GT(frames_checked, 10u * sequences);
}

// ---- Malformed input ------------------------------------------------------------------------

TEST(FrameCodecMalformed, UnknownTypeIsRejectedFromTheHeaderAlone) {
    for (const std::uint8_t type : {0, 8, 255}) {
        SCOPED_TRACE("type " + std::to_string(type));
        const auto header_only = raw_frame(type, 0, 4, 0);
        const auto r = parse_frame(header_only, generous_max);
        EXPECT_EQ(r.st, status::error);
        EXPECT_EQ(r.ec, error::unknown_frame_type);

        const auto whole = raw_frame(type, 0, 4);
        EXPECT_EQ(parse_frame(whole, generous_max).ec, error::unknown_frame_type);

        frame_decoder decoder{generous_max};
        decoder.feed(header_only);
        EXPECT_EQ(decoder.next().ec, error::unknown_frame_type);
    }
}

TEST(FrameCodecMalformed, LengthAboveMaxIsRejectedFromTheHeaderAlone) {
    constexpr std::size_t max_payload = 100;
    for (const std::uint32_t length : {101u, 0x10000u, 0xFFFFFFFFu}) {
        SCOPED_TRACE("length " + std::to_string(length));
        const auto header_only = raw_frame(type_byte(frame_type::data), 0, length, 0);
        const auto r = parse_frame(header_only, max_payload);
        EXPECT_EQ(r.st, status::error);
        EXPECT_EQ(r.ec, error::frame_too_large);

        frame_decoder decoder{max_payload};
        decoder.feed(header_only);
        EXPECT_EQ(decoder.next().ec, error::frame_too_large);
    }
    // The limit itself is allowed: the same header at exactly max waits for the payload.
    const auto at_limit = raw_frame(type_byte(frame_type::data), 0, max_payload, 0);
    const auto r = parse_frame(at_limit, max_payload);
    EXPECT_EQ(r.st, status::need_more);
    EXPECT_EQ(r.need, frame_header_size + max_payload);
}

TEST(FrameCodecMalformed, FixedSizeTypesRejectAnyOtherLength) {
    for (const auto& [type, size] : fixed_size_types) {
        SCOPED_TRACE(to_string(type));
        for (const std::uint32_t wrong : {size - 1, size + 1}) {
            SCOPED_TRACE("length " + std::to_string(wrong));
            const auto whole = raw_frame(type_byte(type), 0, wrong);
            const auto r = parse_frame(whole, generous_max);
            EXPECT_EQ(r.st, status::error);
            EXPECT_EQ(r.ec, error::malformed_frame);
            // Known from the header, so the payload is never waited for.
            const auto header_only = raw_frame(type_byte(type), 0, wrong, 0);
            EXPECT_EQ(parse_frame(header_only, generous_max).ec, error::malformed_frame);
        }
        const auto exact = raw_frame(type_byte(type), 0, size);
        const auto ok = parse_frame(exact, generous_max);
        EXPECT_EQ(ok.st, status::frame) << ok.ec.message();
        EXPECT_EQ(type_of(ok.value), type);
    }
}

// An ACK is 8 bytes, or 12 when timed (delay_us): nothing between or beyond.
TEST(FrameCodecMalformed, AckIsEightOrTwelveBytes) {
    for (const std::uint32_t wrong : {0u, 7u, 9u, 10u, 11u, 13u, 16u}) {
        SCOPED_TRACE("length " + std::to_string(wrong));
        const auto r = parse_frame(raw_frame(type_byte(frame_type::ack), 0, wrong), generous_max);
        EXPECT_EQ(r.st, status::error);
        EXPECT_EQ(r.ec, error::malformed_frame);
    }
    const auto plain = parse_frame(raw_frame(type_byte(frame_type::ack), 0, 8), generous_max);
    ASSERT_EQ(plain.st, status::frame) << plain.ec.message();
    EXPECT_FALSE(std::get<ack_frame>(plain.value).delay_us.has_value());
    const auto timed = parse_frame(raw_frame(type_byte(frame_type::ack), 0, 12), generous_max);
    ASSERT_EQ(timed.st, status::frame) << timed.ec.message();
    EXPECT_TRUE(std::get<ack_frame>(timed.value).delay_us.has_value());
}

TEST(FrameCodecMalformed, CloseShorterThanItsCode) {
    for (const std::uint32_t length : {0u, 1u}) {
        SCOPED_TRACE("length " + std::to_string(length));
        const auto r =
            parse_frame(raw_frame(type_byte(frame_type::close), 0, length), generous_max);
        EXPECT_EQ(r.st, status::error);
        EXPECT_EQ(r.ec, error::malformed_frame);
    }
    const bytes code_only = raw_frame(type_byte(frame_type::close), 0, 2);
    const auto ok = parse_frame(code_only, generous_max);
    ASSERT_EQ(ok.st, status::frame) << ok.ec.message();
    EXPECT_EQ(ok.value, (frame{close_frame{.code = 0x5A5A, .reason = ""}}));
}

TEST(FrameCodecMalformed, ReservedFlagBitsOnData) {
    for (int bit = 1; bit < 8; ++bit) {
        const auto flag = static_cast<std::uint8_t>(1u << bit);
        for (const std::uint8_t flags : {flag, static_cast<std::uint8_t>(flag | flag_fin)}) {
            SCOPED_TRACE("flags " + std::to_string(flags));
            const auto r =
                parse_frame(raw_frame(type_byte(frame_type::data), flags, 3), generous_max);
            EXPECT_EQ(r.st, status::error);
            EXPECT_EQ(r.ec, error::malformed_frame);
        }
    }
    for (const std::uint8_t flags : {std::uint8_t{0}, flag_fin}) {
        const auto ok = parse_frame(raw_frame(type_byte(frame_type::data), flags, 3), generous_max);
        ASSERT_EQ(ok.st, status::frame) << ok.ec.message();
        EXPECT_EQ(std::get<data_frame>(ok.value).fin, flags == flag_fin);
    }
}

TEST(FrameCodecMalformed, AnyFlagOnOtherTypes) {
    const frame samples[] = {hello_frame{},     ping_frame{},
                             pong_frame{},      ack_frame{},
                             slow_down_frame{}, close_frame{.code = 1, .reason = "x"}};
    for (const auto& sample : samples) {
        SCOPED_TRACE(to_string(type_of(sample)));
        const bytes valid = encoded(sample);
        ASSERT_EQ(parse_frame(valid, generous_max).st, status::frame);
        for (int bit = 0; bit < 8; ++bit) {
            SCOPED_TRACE("bit " + std::to_string(bit));
            bytes flagged = valid;
            flagged[1] = static_cast<std::uint8_t>(1u << bit);
            const auto r = parse_frame(flagged, generous_max);
            EXPECT_EQ(r.st, status::error);
            EXPECT_EQ(r.ec, error::malformed_frame);
        }
    }
}

// ---- Partial input --------------------------------------------------------------------------

TEST(FrameCodecNeedMore, PartialHeaderAsksForTheHeader) {
    const bytes wire = encoded(ping_frame{.seq = 1, .send_time_us = 2});
    for (std::size_t n = 0; n < frame_header_size; ++n) {
        SCOPED_TRACE("bytes " + std::to_string(n));
        const auto r = parse_frame(prefix(wire, n), generous_max);
        EXPECT_EQ(r.st, status::need_more);
        EXPECT_EQ(r.need, frame_header_size);
    }
}

TEST(FrameCodecNeedMore, PartialPayloadAsksForTheWholeFrame) {
    const bytes payload(1000, 0x77);
    const bytes wire = encoded(data_frame{.fin = true, .payload = payload});
    for (const std::size_t n : {frame_header_size, frame_header_size + 1, wire.size() - 1}) {
        SCOPED_TRACE("bytes " + std::to_string(n));
        const auto r = parse_frame(prefix(wire, n), generous_max);
        EXPECT_EQ(r.st, status::need_more);
        EXPECT_EQ(r.need, wire.size());
    }
    EXPECT_EQ(parse_frame(wire, generous_max).st, status::frame);
}

// ---- frame_decoder specifics ----------------------------------------------------------------

TEST(FrameCodecDecoder, FinishReportsAStreamCutInsideAFrame) {
    const bytes wire = encoded(ping_frame{.seq = 5, .send_time_us = 6});
    frame_decoder decoder{generous_max};
    EXPECT_FALSE(decoder.finish());

    decoder.feed(prefix(wire, 3)); // inside the header
    EXPECT_EQ(decoder.next().st, status::need_more);
    EXPECT_EQ(decoder.finish(), error::truncated_frame);

    decoder.feed(std::span{wire}.subspan(3, 10)); // inside the payload
    EXPECT_EQ(decoder.next().st, status::need_more);
    EXPECT_EQ(decoder.finish(), error::truncated_frame);

    decoder.feed(std::span{wire}.subspan(13));
    const auto r = decoder.next();
    ASSERT_EQ(r.st, status::frame);
    EXPECT_EQ(r.value, (frame{ping_frame{.seq = 5, .send_time_us = 6}}));
    EXPECT_FALSE(decoder.finish());
}

TEST(FrameCodecDecoder, UnreadCompleteFramesCountAsTruncated) {
    frame_decoder decoder{generous_max};
    decoder.feed(encoded(ack_frame{.delivered = 1}));
    EXPECT_EQ(decoder.finish(), error::truncated_frame);
}

TEST(FrameCodecDecoder, NeedCountsFromTheFirstUnconsumedByte) {
    bytes wire = encoded(ack_frame{.delivered = 1});
    const bytes second = encoded(ping_frame{.seq = 2});
    wire.insert(wire.end(), second.begin(), second.begin() + 3);
    frame_decoder decoder{generous_max};
    decoder.feed(wire);
    ASSERT_EQ(decoder.next().st, status::frame);
    const auto r = decoder.next();
    EXPECT_EQ(r.st, status::need_more);
    EXPECT_EQ(r.need, frame_header_size);
    EXPECT_EQ(decoder.buffered(), 3u);
}

TEST(FrameCodecDecoder, ErrorsAreStickyAndLaterBytesIgnored) {
    frame_decoder decoder{generous_max};
    decoder.feed(raw_frame(8, 0, 0));
    EXPECT_EQ(decoder.next().ec, error::unknown_frame_type);
    const std::size_t buffered = decoder.buffered();
    decoder.feed(encoded(ping_frame{}));
    EXPECT_EQ(decoder.buffered(), buffered);
    const auto r = decoder.next();
    EXPECT_EQ(r.st, status::error);
    EXPECT_EQ(r.ec, error::unknown_frame_type);
    EXPECT_EQ(decoder.finish(), error::unknown_frame_type);
}

TEST(FrameCodecDecoder, HugeLengthClaimIsRefusedWithoutBufferingItsPayload) {
    frame_decoder decoder{4096};
    decoder.feed(raw_frame(type_byte(frame_type::data), 0, 0xFFFFFFFF, 0));
    EXPECT_EQ(decoder.next().ec, error::frame_too_large);
    EXPECT_EQ(decoder.buffered(), frame_header_size);
}

// ---- The inline DATA fast path ---------------------------------------------------------------

// Every header byte combination around DATA, every length near the limit, every prefix: where
// peek_data_frame answers, parse_frame gives the same DATA frame; it answers for every complete
// well-formed DATA frame; it declines everything else.
TEST(FrameCodecPeekData, AgreesWithParseFrameOnEveryHeaderAndPrefix) {
    constexpr std::size_t max_payload = 64;
    std::size_t answered = 0;
    for (unsigned type = 0; type <= 9; ++type) {
        for (unsigned flags : {0u, 1u, 2u, 0x80u, 0xFFu}) {
            for (std::uint32_t length : {0u, 1u, 16u, 63u, 64u, 65u, u32_max}) {
                const bytes b =
                    raw_frame(static_cast<std::uint8_t>(type), static_cast<std::uint8_t>(flags),
                              length, std::min<std::size_t>(length, max_payload + 2) + 3);
                for (std::size_t n = 0; n <= b.size(); ++n) {
                    const auto input = prefix(b, n);
                    const auto peeked = peek_data_frame(input, max_payload);
                    const auto parsed = parse_frame(input, max_payload);
                    const bool complete_data = parsed.st == status::frame &&
                                               std::holds_alternative<data_frame>(parsed.value);
                    ASSERT_EQ(peeked.has_value(), complete_data)
                        << "type " << type << " flags " << flags << " length " << length
                        << " prefix " << n;
                    if (!peeked)
                        continue;
                    ++answered;
                    const auto& d = std::get<data_frame>(parsed.value);
                    EXPECT_EQ(peeked->consumed, parsed.consumed);
                    EXPECT_EQ(peeked->fin, d.fin);
                    EXPECT_EQ(peeked->payload.data(), d.payload.data());
                    EXPECT_EQ(peeked->payload.size(), d.payload.size());
                }
            }
        }
    }
    // Complete DATA frames (flags 0 or FIN, lengths 0..64) were among the inputs: the fast path
    // itself was checked, not only its refusals.
    EXPECT_GT(answered, 0u);
}

} // namespace
} // namespace heartbeat
