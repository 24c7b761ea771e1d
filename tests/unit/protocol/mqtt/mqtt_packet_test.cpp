#include <heartbeat/protocol/mqtt/mqtt_packet.hpp>

#include "mqtt_test_bytes.hpp"

#include <heartbeat/core/error.hpp>

#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

namespace heartbeat::mqtt {
namespace {

using test::bytes;
using test::concat;
using test::prefix;
using status = packet_scan::status;

constexpr std::size_t generous_max = 1 << 20;

TEST(MqttPacketType, NamesAreTheSpecsNames) {
    const char* const names[] = {"CONNECT",  "CONNACK", "PUBLISH",   "PUBACK",     "PUBREC",
                                 "PUBREL",   "PUBCOMP", "SUBSCRIBE", "SUBACK",     "UNSUBSCRIBE",
                                 "UNSUBACK", "PINGREQ", "PINGRESP",  "DISCONNECT", "AUTH"};
    for (int t = 1; t <= 15; ++t) {
        EXPECT_STREQ(to_string(static_cast<packet_type>(t)), names[t - 1]) << t;
    }
    EXPECT_STREQ(to_string(static_cast<packet_type>(0)), "UNKNOWN");
    EXPECT_STREQ(to_string(static_cast<packet_type>(16)), "UNKNOWN");
}

TEST(MqttScan, EmptyInputNeedsMore) {
    const auto scan = scan_packet({}, generous_max);
    EXPECT_EQ(scan.st, status::need_more);
    EXPECT_EQ(scan.consumed, 0u);
    EXPECT_EQ(scan.header_size, 0u);
    EXPECT_FALSE(scan.ec);
}

TEST(MqttScan, CompletePacketReportsItsHeader) {
    const bytes suback = {0x90, 0x03, 0x00, 0x07, 0x01, /* next packet: */ 0xD0};
    const auto scan = scan_packet(suback, generous_max);
    EXPECT_EQ(scan.st, status::complete);
    EXPECT_EQ(scan.consumed, 5u);
    EXPECT_EQ(scan.header_size, 2u);
    EXPECT_EQ(scan.type, packet_type::suback);
    EXPECT_EQ(scan.flags, 0);
    EXPECT_EQ(scan.remaining_length, 3u);
    EXPECT_FALSE(scan.ec);
}

TEST(MqttScan, RemainingLengthEdgeValues) {
    struct edge {
        std::uint32_t value;
        bytes encoded;
    };
    const edge edges[] = {
        {0, {0x00}},
        {127, {0x7F}},
        {128, {0x80, 0x01}},
        {16'383, {0xFF, 0x7F}},
        {16'384, {0x80, 0x80, 0x01}},
        {2'097'151, {0xFF, 0xFF, 0x7F}},
        {2'097'152, {0x80, 0x80, 0x80, 0x01}},
        {268'435'455, {0xFF, 0xFF, 0xFF, 0x7F}},
    };
    for (const auto& e : edges) {
        const bytes header = concat({{0x30}, e.encoded});
        const std::size_t whole = header.size() + e.value;
        // The header alone is enough to know the size.
        const auto head = scan_packet(header, whole);
        EXPECT_EQ(head.st, e.value == 0 ? status::complete : status::need_more) << e.value;
        EXPECT_EQ(head.header_size, header.size()) << e.value;
        EXPECT_EQ(head.remaining_length, e.value);
        EXPECT_EQ(head.type, packet_type::publish);
        // One byte less allowed: refused before the body.
        const auto too_big = scan_packet(header, whole - 1);
        EXPECT_EQ(too_big.st, status::error) << e.value;
        EXPECT_EQ(too_big.ec, make_error_code(error::frame_too_large)) << e.value;
        EXPECT_EQ(too_big.remaining_length, e.value);
    }
    // Whole packets for the sizes a test can afford to allocate.
    for (const auto& e : edges) {
        if (e.value > 16'384) {
            continue;
        }
        bytes packet = concat({{0x30}, e.encoded});
        const std::size_t header_size = packet.size();
        packet.resize(header_size + e.value, 0x5A);
        const auto scan = scan_packet(packet, packet.size());
        EXPECT_EQ(scan.st, status::complete) << e.value;
        EXPECT_EQ(scan.consumed, header_size + e.value);
        if (e.value > 0) {
            EXPECT_EQ(scan_packet(prefix(packet, packet.size() - 1), packet.size()).st,
                      status::need_more);
        }
    }
}

TEST(MqttScan, FiveByteRemainingLengthIsMalformedAtTheFourthByte) {
    const bytes five = {0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x7F};
    for (std::size_t n : {5u, 6u}) {
        const auto scan = scan_packet(prefix(five, n), generous_max);
        EXPECT_EQ(scan.st, status::error) << n;
        EXPECT_EQ(scan.ec, make_error_code(error::malformed_frame)) << n;
    }
    EXPECT_EQ(scan_packet(prefix(five, 4), generous_max).st, status::need_more);
}

TEST(MqttScan, NonMinimalRemainingLengthIsAccepted) {
    const bytes padded_pingresp = {0xD0, 0x80, 0x80, 0x00};
    const auto scan = scan_packet(padded_pingresp, generous_max);
    EXPECT_EQ(scan.st, status::complete);
    EXPECT_EQ(scan.consumed, 4u);
    EXPECT_EQ(scan.header_size, 4u);
    EXPECT_EQ(scan.remaining_length, 0u);
}

TEST(MqttScan, FrameTooLargeBeforeTheBodyArrives) {
    const bytes header = {0x30, 0x80, 0x01}; // remaining 128: 131 bytes in all
    const auto refused = scan_packet(header, 130);
    EXPECT_EQ(refused.st, status::error);
    EXPECT_EQ(refused.ec, make_error_code(error::frame_too_large));
    EXPECT_EQ(refused.header_size, 3u);
    EXPECT_EQ(refused.remaining_length, 128u);

    const auto exactly_at_limit = scan_packet(header, 131);
    EXPECT_EQ(exactly_at_limit.st, status::need_more);
    EXPECT_FALSE(exactly_at_limit.ec);

    // A hostile 256 MB claim with a small limit: refused from its 5 header bytes.
    const bytes huge = {0x30, 0xFF, 0xFF, 0xFF, 0x7F};
    const auto hostile = scan_packet(huge, generous_max);
    EXPECT_EQ(hostile.st, status::error);
    EXPECT_EQ(hostile.ec, make_error_code(error::frame_too_large));
}

TEST(MqttScan, TypeZeroIsMalformedWithAnyFlags) {
    for (std::uint8_t flags = 0; flags < 16; ++flags) {
        const bytes first_byte_only = {flags};
        const auto scan = scan_packet(first_byte_only, generous_max);
        EXPECT_EQ(scan.st, status::error) << int{flags};
        EXPECT_EQ(scan.ec, make_error_code(error::malformed_frame));
    }
}

// MQTT 3.1.1 §2.2.2 table 2.2 and MQTT 5 §2.1.3 table 2-2.
bool flags_permitted(int type, int flags) {
    switch (type) {
    case 3: // PUBLISH: DUP, QoS, RETAIN; QoS 3 is malformed
        return flags != 0x6 && flags != 0x7 && flags != 0xE && flags != 0xF;
    case 6:  // PUBREL
    case 8:  // SUBSCRIBE
    case 10: // UNSUBSCRIBE
        return flags == 0x2;
    default:
        return flags == 0x0;
    }
}

TEST(MqttScan, FixedHeaderFlagsPerType) {
    int permitted = 0;
    for (int type = 1; type <= 15; ++type) {
        for (int flags = 0; flags < 16; ++flags) {
            // Judged from the first byte alone, so a bad packet never makes us wait.
            const bytes first_byte_only = {static_cast<std::uint8_t>(type << 4 | flags)};
            const auto scan = scan_packet(first_byte_only, generous_max);
            if (flags_permitted(type, flags)) {
                ++permitted;
                EXPECT_EQ(scan.st, status::need_more) << type << "/" << flags;
                EXPECT_EQ(scan.flags, flags);
            } else {
                EXPECT_EQ(scan.st, status::error) << type << "/" << flags;
                EXPECT_EQ(scan.ec, make_error_code(error::malformed_frame));
            }
        }
    }
    EXPECT_EQ(permitted, 12 + 3 + 11); // PUBLISH 12, the three 0b0010 types, the other 11
}

// A stream of several packets of different header sizes, as a broker might send it.
struct stream_packet {
    packet_type type;
    bytes wire;
};

std::vector<stream_packet> broker_stream() {
    bytes big_publish = {0x30, 0x83, 0x01, 0x00, 0x01, 't'}; // remaining 131
    big_publish.resize(3 + 131, 0x42);
    return {
        {packet_type::connack, {0x20, 0x02, 0x00, 0x00}},
        {packet_type::pingresp, {0xD0, 0x00}},
        {packet_type::publish, {0x32, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x01, 'h', 'i'}},
        {packet_type::suback, {0x90, 0x03, 0x00, 0x01, 0x00}},
        {packet_type::publish, big_publish},
        {packet_type::pubrel, {0x62, 0x02, 0x00, 0x01}},
        {packet_type::pingresp, {0xD0, 0x00}},
    };
}

TEST(MqttScan, EveryPrefixOfEveryPacketNeedsMoreUntilItsExactEnd) {
    for (const auto& p : broker_stream()) {
        for (std::size_t n = 0; n < p.wire.size(); ++n) {
            const auto scan = scan_packet(prefix(p.wire, n), generous_max);
            EXPECT_EQ(scan.st, status::need_more) << to_string(p.type) << " at " << n;
            EXPECT_EQ(scan.consumed, 0u);
        }
        const auto scan = scan_packet(p.wire, generous_max);
        EXPECT_EQ(scan.st, status::complete) << to_string(p.type);
        EXPECT_EQ(scan.consumed, p.wire.size());
        EXPECT_EQ(scan.type, p.type);
    }
}

// A reader that receives the stream in two reads split at `split`, and scans after each.
std::vector<std::pair<packet_type, std::size_t>> read_in_two_parts(const bytes& stream,
                                                                   std::size_t split) {
    std::vector<std::pair<packet_type, std::size_t>> found;
    bytes buffer;
    for (const auto& part : {prefix(stream, split), std::span(stream).subspan(split)}) {
        buffer.insert(buffer.end(), part.begin(), part.end());
        for (;;) {
            const auto scan = scan_packet(buffer, generous_max);
            if (scan.st != status::complete) {
                EXPECT_EQ(scan.st, status::need_more);
                break;
            }
            found.emplace_back(scan.type, scan.consumed);
            buffer.erase(buffer.begin(), buffer.begin() + static_cast<long>(scan.consumed));
        }
    }
    EXPECT_TRUE(buffer.empty());
    return found;
}

TEST(MqttScan, EverySplitPointOfAStreamYieldsTheSamePackets) {
    const auto packets = broker_stream();
    bytes stream;
    std::vector<std::pair<packet_type, std::size_t>> expected;
    for (const auto& p : packets) {
        stream.insert(stream.end(), p.wire.begin(), p.wire.end());
        expected.emplace_back(p.type, p.wire.size());
    }
    for (std::size_t split = 0; split <= stream.size(); ++split) {
        EXPECT_EQ(read_in_two_parts(stream, split), expected) << "split at " << split;
    }
}

TEST(MqttScan, ServerMaySendOnlyServerPackets) {
    using enum packet_type;
    const packet_type from_server[] = {connack, publish, puback,   pubrec,  pubrel,
                                       pubcomp, suback,  unsuback, pingresp};
    const packet_type client_only[] = {connect, subscribe, unsubscribe, pingreq};
    for (auto version : {protocol_version::v311, protocol_version::v5}) {
        for (auto t : from_server) {
            EXPECT_TRUE(server_may_send(t, version)) << to_string(t);
        }
        for (auto t : client_only) {
            EXPECT_FALSE(server_may_send(t, version)) << to_string(t);
        }
    }
    EXPECT_FALSE(server_may_send(disconnect, protocol_version::v311));
    EXPECT_FALSE(server_may_send(auth, protocol_version::v311));
    EXPECT_TRUE(server_may_send(disconnect, protocol_version::v5));
    EXPECT_TRUE(server_may_send(auth, protocol_version::v5));
}

} // namespace
} // namespace heartbeat::mqtt
