#include <heartbeat/protocol/mqtt/mqtt_control.hpp>

#include "mqtt_test_bytes.hpp"

#include <heartbeat/core/error.hpp>

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace heartbeat::mqtt {
namespace {

using test::bytes;
using test::concat;
using test::to_bytes;
constexpr auto v311 = protocol_version::v311;
constexpr auto v5 = protocol_version::v5;

const boost::system::error_code malformed = make_error_code(error::malformed_frame);

TEST(MqttKeepAlive, PingreqBytes) {
    constexpr auto ping = pingreq();
    static_assert(ping[0] == 0xC0 && ping[1] == 0x00);
    const auto scan = scan_packet(ping, 2);
    EXPECT_EQ(scan.st, packet_scan::status::complete);
    EXPECT_EQ(scan.type, packet_type::pingreq);
}

TEST(MqttKeepAlive, RecognisesExactlyOnePingresp) {
    EXPECT_TRUE(is_pingresp(bytes{0xD0, 0x00}));
    EXPECT_TRUE(is_pingresp(bytes{0xD0, 0x80, 0x00})); // non-minimal length, as scan accepts

    EXPECT_FALSE(is_pingresp(bytes{}));
    EXPECT_FALSE(is_pingresp(bytes{0xD0}));                   // incomplete
    EXPECT_FALSE(is_pingresp(bytes{0xD0, 0x01, 0x00}));       // with a body
    EXPECT_FALSE(is_pingresp(bytes{0xD0, 0x00, 0xD0, 0x00})); // two of them
    EXPECT_FALSE(is_pingresp(bytes{0xD1, 0x00}));             // flags
    EXPECT_FALSE(is_pingresp(bytes{0xC0, 0x00}));             // PINGREQ
    EXPECT_FALSE(is_pingresp(bytes{0xE0, 0x00}));             // DISCONNECT

    const bytes stream = {0xD0, 0x00, 0x30, 0x00};
    EXPECT_TRUE(is_pingresp(scan_packet(stream, 100)));
    EXPECT_FALSE(is_pingresp(scan_packet(std::span(stream).subspan(2), 100)));
    EXPECT_FALSE(is_pingresp(scan_packet(bytes{0xD0}, 100))); // need_more
}

TEST(MqttDisconnect, Bytes) {
    EXPECT_EQ(to_bytes(encode_disconnect(v311)), (bytes{0xE0, 0x00}));
    EXPECT_EQ(to_bytes(encode_disconnect(v311, 0x04)), (bytes{0xE0, 0x00})); // no reason field
    EXPECT_EQ(to_bytes(encode_disconnect(v5)), (bytes{0xE0, 0x00}));
    EXPECT_EQ(to_bytes(encode_disconnect(v5, 0x04)), (bytes{0xE0, 0x01, 0x04}));
    EXPECT_EQ(to_bytes(encode_disconnect(v5, 0x8E)), (bytes{0xE0, 0x01, 0x8E}));
}

TEST(MqttPublishEncode, Bytes) {
    EXPECT_EQ(to_bytes(encode_publish("a/b", "hi", 0, false, 0, v311)),
              (bytes{0x30, 0x07, 0x00, 0x03, 'a', '/', 'b', 'h', 'i'}));
    EXPECT_EQ(to_bytes(encode_publish("a/b", "hi", 1, true, 10, v311)),
              (bytes{0x33, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 'h', 'i'}));
    EXPECT_EQ(to_bytes(encode_publish("a/b", "hi", 2, false, 0x1234, v311)),
              (bytes{0x34, 0x09, 0x00, 0x03, 'a', '/', 'b', 0x12, 0x34, 'h', 'i'}));
    EXPECT_EQ(to_bytes(encode_publish("a/b", "hi", 0, false, 0, v5)),
              (bytes{0x30, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 'h', 'i'}));
    EXPECT_EQ(to_bytes(encode_publish("a/b", "", 1, false, 10, v5)),
              (bytes{0x32, 0x08, 0x00, 0x03, 'a', '/', 'b', 0x00, 0x0A, 0x00}));
}

TEST(MqttPublishDecode, RoundTripsAtQos0And1InBothVersions) {
    const std::string big(300, '\x7F'); // a 2-byte remaining length
    for (auto version : {v311, v5}) {
        for (std::uint8_t qos : {0, 1}) {
            for (bool retain : {false, true}) {
                for (const std::string& payload : {std::string{}, std::string("pong"), big}) {
                    const std::uint16_t id = qos == 0 ? 0 : 0xBEEF;
                    const auto wire =
                        encode_publish("sensors/7", payload, qos, retain, id, version);
                    boost::system::error_code ec = malformed;
                    const auto p = decode_publish(test::as_span(wire), version, ec);
                    ASSERT_TRUE(p) << ec.message();
                    EXPECT_FALSE(ec);
                    EXPECT_EQ(p->topic, "sensors/7");
                    EXPECT_EQ(p->payload, payload);
                    EXPECT_EQ(p->qos, qos);
                    EXPECT_EQ(p->retain, retain);
                    EXPECT_FALSE(p->dup);
                    EXPECT_EQ(p->packet_id, id);
                }
            }
        }
    }
}

TEST(MqttPublishDecode, DupAndQos2) {
    const bytes wire = {0x3C, 0x07, 0x00, 0x01, 't', 0x00, 0x05, 'x', 'y'};
    boost::system::error_code ec;
    const auto p = decode_publish(wire, v311, ec);
    ASSERT_TRUE(p) << ec.message();
    EXPECT_TRUE(p->dup);
    EXPECT_EQ(p->qos, 2);
    EXPECT_FALSE(p->retain);
    EXPECT_EQ(p->packet_id, 5);
    EXPECT_EQ(p->payload, "xy");
}

TEST(MqttPublishDecode, V5SkipsProperties) {
    const bytes wire = {
        0x32, 0x0F, 0x00, 0x01, 't',  0x00, 0x07, // QoS 1, topic "t", id 7
        0x07,                                     // properties: 7 bytes
        0x01, 0x01,                               // Payload Format Indicator: UTF-8
        0x02, 0x00, 0x00, 0x00, 0x3C,             // Message Expiry Interval 60
        'o',  'k',                                // payload
    };
    boost::system::error_code ec;
    const auto p = decode_publish(wire, v5, ec);
    ASSERT_TRUE(p) << ec.message();
    EXPECT_EQ(p->topic, "t");
    EXPECT_EQ(p->packet_id, 7);
    EXPECT_EQ(p->payload, "ok");
    // Read as 3.1.1 the same bytes are a different, still well-formed message.
    const auto as_v311 = decode_publish(wire, v311, ec);
    ASSERT_TRUE(as_v311);
    EXPECT_EQ(as_v311->payload.size(), 10u);
}

TEST(MqttPublishDecode, LayoutViolationsAreMalformed) {
    const std::map<std::string, std::pair<bytes, protocol_version>> cases = {
        {"packet id 0 at QoS 1", {{0x32, 0x05, 0x00, 0x01, 't', 0x00, 0x00}, v311}},
        {"topic past the end", {{0x30, 0x03, 0x00, 0x05, 't'}, v311}},
        {"no topic length", {{0x30, 0x01, 0x00}, v311}},
        {"no packet id", {{0x32, 0x03, 0x00, 0x01, 't'}, v311}},
        {"v5 without property length", {{0x30, 0x03, 0x00, 0x01, 't'}, v5}},
        {"v5 properties past the end", {{0x30, 0x05, 0x00, 0x01, 't', 0x05, 0x01}, v5}},
        {"another type", {{0x40, 0x02, 0x00, 0x01}, v311}},
        {"span longer than the packet", {{0x30, 0x03, 0x00, 0x01, 't', 0x00}, v311}},
        {"QoS 3", {{0x36, 0x05, 0x00, 0x01, 't', 0x00, 0x01}, v311}},
    };
    for (const auto& [name, c] : cases) {
        boost::system::error_code ec;
        EXPECT_EQ(decode_publish(c.first, c.second, ec), std::nullopt) << name;
        EXPECT_EQ(ec, malformed) << name;
    }
}

TEST(MqttPuback, Bytes) {
    EXPECT_EQ(to_bytes(encode_puback(10, v311)), (bytes{0x40, 0x02, 0x00, 0x0A}));
    EXPECT_EQ(to_bytes(encode_puback(0xBEEF, v5)), (bytes{0x40, 0x02, 0xBE, 0xEF}));
}

TEST(MqttSubscribe, Bytes) {
    const subscription topics[] = {{"a/#", 1}, {"b", 0}};
    EXPECT_EQ(to_bytes(encode_subscribe(1, topics, v311)),
              (bytes{0x82, 0x0C, 0x00, 0x01,          // SUBSCRIBE, id 1
                     0x00, 0x03, 'a', '/', '#', 0x01, // a/# QoS 1
                     0x00, 0x01, 'b', 0x00}));        // b QoS 0
    const subscription v5_topics[] = {
        {"a/#", 0x2D}}; // QoS 1, No Local, Retain As Published, Retain Handling 2
    EXPECT_EQ(to_bytes(encode_subscribe(0x0102, v5_topics, v5)),
              (bytes{0x82, 0x09, 0x01, 0x02, 0x00, // SUBSCRIBE, id, no properties
                     0x00, 0x03, 'a', '/', '#', 0x2D}));
}

TEST(MqttSuback, DecodesCodesInOrder) {
    boost::system::error_code ec;
    EXPECT_EQ(decode_suback(bytes{0x90, 0x03, 0x00, 0x01, 0x01}, v311, ec),
              (std::vector<std::uint8_t>{0x01}));
    EXPECT_EQ(decode_suback(bytes{0x90, 0x05, 0x00, 0x01, 0x00, 0x02, 0x80}, v311, ec),
              (std::vector<std::uint8_t>{0x00, 0x02, 0x80}));
    EXPECT_EQ(decode_suback(bytes{0x90, 0x04, 0x00, 0x01, 0x00, 0x00}, v5, ec),
              (std::vector<std::uint8_t>{0x00}));
    const bytes with_reason = {0x90, 0x09, 0x00, 0x01, 0x05, 0x1F, 0x00, 0x02, 'n', 'o', 0x87};
    EXPECT_EQ(decode_suback(with_reason, v5, ec), (std::vector<std::uint8_t>{0x87}));
    EXPECT_FALSE(ec);
}

TEST(MqttSuback, LayoutViolationsAreMalformed) {
    const std::map<std::string, std::pair<bytes, protocol_version>> cases = {
        {"no codes", {{0x90, 0x02, 0x00, 0x01}, v311}},
        {"v5 no codes", {{0x90, 0x03, 0x00, 0x01, 0x00}, v5}},
        {"packet id 0", {{0x90, 0x03, 0x00, 0x00, 0x00}, v311}},
        {"v5 properties past the end", {{0x90, 0x04, 0x00, 0x01, 0x03, 0x00}, v5}},
        {"flags", {{0x92, 0x03, 0x00, 0x01, 0x00}, v311}},
        {"another type", {{0xB0, 0x02, 0x00, 0x01}, v311}},
    };
    for (const auto& [name, c] : cases) {
        boost::system::error_code ec;
        EXPECT_EQ(decode_suback(c.first, c.second, ec), std::nullopt) << name;
        EXPECT_EQ(ec, malformed) << name;
    }
}

} // namespace
} // namespace heartbeat::mqtt
