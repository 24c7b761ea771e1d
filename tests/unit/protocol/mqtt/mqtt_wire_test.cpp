#include <heartbeat/protocol/mqtt/detail/mqtt_wire.hpp>

#include "mqtt_test_bytes.hpp"

#include <gtest/gtest.h>

#include <string>

namespace heartbeat::mqtt::detail {
namespace {

using test::bytes;
using test::prefix;
using vbi_status = variable_byte_integer::status;

struct varint_case {
    std::uint32_t value;
    bytes encoded;
};

// The boundaries of each encoded size (3.1.1 §2.2.3 table 2.4, 5 §1.5.5).
const varint_case varint_edges[] = {
    {0, {0x00}},
    {127, {0x7F}},
    {128, {0x80, 0x01}},
    {16'383, {0xFF, 0x7F}},
    {16'384, {0x80, 0x80, 0x01}},
    {2'097'151, {0xFF, 0xFF, 0x7F}},
    {2'097'152, {0x80, 0x80, 0x80, 0x01}},
    {268'435'455, {0xFF, 0xFF, 0xFF, 0x7F}},
};

TEST(MqttVarint, EncodesEdgeValuesMinimally) {
    for (const auto& c : varint_edges) {
        std::string out;
        put_variable_byte_integer(out, c.value);
        EXPECT_EQ(test::to_bytes(out), c.encoded) << c.value;
        EXPECT_EQ(variable_byte_integer_size(c.value), c.encoded.size()) << c.value;
    }
}

TEST(MqttVarint, DecodesEdgeValuesAndNeedsMoreOnEveryShorterPrefix) {
    for (const auto& c : varint_edges) {
        const auto full = read_variable_byte_integer(c.encoded);
        EXPECT_EQ(full.st, vbi_status::complete) << c.value;
        EXPECT_EQ(full.value, c.value);
        EXPECT_EQ(full.size, c.encoded.size());
        for (std::size_t n = 0; n < c.encoded.size(); ++n) {
            EXPECT_EQ(read_variable_byte_integer(prefix(c.encoded, n)).st, vbi_status::need_more)
                << c.value << " with " << n << " bytes";
        }
    }
}

TEST(MqttVarint, StopsAtTheFirstByteWithoutContinuation) {
    const bytes followed = {0x80, 0x01, 0xFF, 0xFF};
    const auto r = read_variable_byte_integer(followed);
    EXPECT_EQ(r.st, vbi_status::complete);
    EXPECT_EQ(r.value, 128u);
    EXPECT_EQ(r.size, 2u);
}

TEST(MqttVarint, FifthByteIsMalformedAlreadyAtTheFourth) {
    const bytes five = {0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
    EXPECT_EQ(read_variable_byte_integer(five).st, vbi_status::malformed);
    EXPECT_EQ(read_variable_byte_integer(prefix(five, 4)).st, vbi_status::malformed);
    EXPECT_EQ(read_variable_byte_integer(prefix(five, 3)).st, vbi_status::need_more);
    const bytes zero_with_continuations = {0x80, 0x80, 0x80, 0x80, 0x00};
    EXPECT_EQ(read_variable_byte_integer(zero_with_continuations).st, vbi_status::malformed);
}

TEST(MqttVarint, AcceptsNonMinimalEncodings) {
    const bytes two_byte_zero = {0x80, 0x00};
    const auto two = read_variable_byte_integer(two_byte_zero);
    EXPECT_EQ(two.st, vbi_status::complete);
    EXPECT_EQ(two.value, 0u);
    EXPECT_EQ(two.size, 2u);

    const bytes four_byte_five = {0x85, 0x80, 0x80, 0x00};
    const auto four = read_variable_byte_integer(four_byte_five);
    EXPECT_EQ(four.st, vbi_status::complete);
    EXPECT_EQ(four.value, 5u);
    EXPECT_EQ(four.size, 4u);
}

TEST(MqttWire, WritesBigEndianIntegersAndLengthPrefixedStrings) {
    std::string out;
    put_u8(out, 0xAB);
    put_u16(out, 0x1234);
    put_u32(out, 0xDEADBEEF);
    put_length_prefixed(out, "MQTT");
    put_length_prefixed(out, "");
    EXPECT_EQ(test::to_bytes(out), (bytes{0xAB, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x00, 0x04, 'M',
                                          'Q', 'T', 'T', 0x00, 0x00}));
}

TEST(MqttWire, ReaderReadsWhatTheWriterWrote) {
    const bytes in = {0xAB, 0x12, 0x34, 0xDE, 0xAD, 0xBE, 0xEF, 0x80,
                      0x01, 0x00, 0x02, 'h',  'b',  0x01, 0x02, 0x03};
    wire_reader r{in};
    EXPECT_EQ(r.u8(), 0xAB);
    EXPECT_EQ(r.u16(), 0x1234);
    EXPECT_EQ(r.u32(), 0xDEADBEEFu);
    EXPECT_EQ(r.variable_byte_integer(), 128u);
    EXPECT_EQ(r.length_prefixed(), "hb");
    const auto rest = r.bytes(2);
    ASSERT_TRUE(rest);
    EXPECT_EQ(bytes(rest->begin(), rest->end()), (bytes{0x01, 0x02}));
    EXPECT_EQ(r.remaining(), 1u);
}

TEST(MqttWire, TruncatedReadsFailWithoutConsuming) {
    const bytes in = {0x00, 0x05, 'a'};
    wire_reader r{in};
    EXPECT_FALSE(r.u32());
    EXPECT_FALSE(r.length_prefixed()); // claims 5 bytes, 1 present
    EXPECT_FALSE(r.bytes(4));
    EXPECT_EQ(r.remaining(), 3u);
    EXPECT_EQ(r.u16(), 5);
    EXPECT_FALSE(r.u16());
    EXPECT_EQ(r.u8(), 'a');
    EXPECT_FALSE(r.u8());
    EXPECT_EQ(r.remaining(), 0u);

    const bytes unfinished_varint = {0x80, 0x80};
    wire_reader v{unfinished_varint};
    EXPECT_FALSE(v.variable_byte_integer());
    EXPECT_EQ(v.remaining(), 2u);
}

TEST(MqttWire, StringsMustBeWellFormedUtf8WithoutNul) {
    EXPECT_TRUE(is_valid_mqtt_string(""));
    EXPECT_TRUE(is_valid_mqtt_string("heartbeat-01"));
    EXPECT_TRUE(is_valid_mqtt_string("h\xC3\xA9llo"));     // é, 2 bytes
    EXPECT_TRUE(is_valid_mqtt_string("\xE2\x82\xAC"));     // €, 3 bytes
    EXPECT_TRUE(is_valid_mqtt_string("\xF0\x9D\x84\x9E")); // U+1D11E, 4 bytes
    EXPECT_TRUE(is_valid_mqtt_string("\xF4\x8F\xBF\xBF")); // U+10FFFF, the last code point
    EXPECT_TRUE(is_valid_mqtt_string("\xED\x9F\xBF"));     // U+D7FF, just below surrogates

    EXPECT_FALSE(is_valid_mqtt_string(std::string_view("a\0b", 3))); // U+0000
    EXPECT_FALSE(is_valid_mqtt_string("\xC0\x80"));                  // overlong U+0000
    EXPECT_FALSE(is_valid_mqtt_string("\xE0\x80\xAF"));              // overlong '/'
    EXPECT_FALSE(is_valid_mqtt_string("\xF0\x8F\xBF\xBF"));          // overlong U+FFFF
    EXPECT_FALSE(is_valid_mqtt_string("\xED\xA0\x80"));              // U+D800, a surrogate
    EXPECT_FALSE(is_valid_mqtt_string("\xF4\x90\x80\x80"));          // U+110000
    EXPECT_FALSE(is_valid_mqtt_string("\xE2\x82"));                  // truncated
    EXPECT_FALSE(is_valid_mqtt_string("\x80"));                      // lone continuation
    EXPECT_FALSE(is_valid_mqtt_string("\xC3("));                     // bad continuation
    EXPECT_FALSE(is_valid_mqtt_string("\xF8\x88\x80\x80\x80"));      // 5-byte form
}

} // namespace
} // namespace heartbeat::mqtt::detail
