#include <heartbeat/protocol/mqtt/mqtt_connect.hpp>

#include "mqtt_test_bytes.hpp"

#include <heartbeat/core/error.hpp>

#include <gtest/gtest.h>

#include <cassert>
#include <map>

namespace heartbeat::mqtt {
namespace {

using test::bytes;
using test::concat;
constexpr auto v311 = protocol_version::v311;
constexpr auto v5 = protocol_version::v5;

const boost::system::error_code malformed = make_error_code(error::malformed_frame);

// A v5 CONNACK around the given property bytes. Lengths stay below 128, so one byte each.
bytes connack_v5(std::uint8_t flags, std::uint8_t code, const bytes& properties) {
    assert(properties.size() + 3 < 128);
    return concat({{0x20, static_cast<std::uint8_t>(3 + properties.size()), flags, code,
                    static_cast<std::uint8_t>(properties.size())},
                   properties});
}

TEST(MqttConnackDecode, V311AcceptedAndRefused) {
    boost::system::error_code ec = make_error_code(error::peer_dead); // must be cleared
    const auto accepted = decode_connack(bytes{0x20, 0x02, 0x00, 0x00}, v311, ec);
    ASSERT_TRUE(accepted) << ec.message();
    EXPECT_FALSE(ec);
    EXPECT_FALSE(accepted->session_present);
    EXPECT_EQ(accepted->code, 0);
    EXPECT_EQ(accepted->server_keep_alive_s, std::nullopt);
    EXPECT_EQ(accepted->maximum_packet_size, std::nullopt);
    EXPECT_EQ(accepted->assigned_client_id, "");

    const auto resumed = decode_connack(bytes{0x20, 0x02, 0x01, 0x00}, v311, ec);
    ASSERT_TRUE(resumed);
    EXPECT_TRUE(resumed->session_present);

    // A refusal decodes fine: the code says what happened.
    const auto refused = decode_connack(bytes{0x20, 0x02, 0x00, 0x05}, v311, ec);
    ASSERT_TRUE(refused);
    EXPECT_FALSE(ec);
    EXPECT_EQ(refused->code, 5);
}

TEST(MqttConnackDecode, V311LayoutViolationsAreMalformed) {
    const bytes cases[] = {
        {0x20, 0x02, 0x02, 0x00},       // reserved acknowledge flag
        {0x20, 0x02, 0x80, 0x00},       // reserved acknowledge flag
        {0x20, 0x03, 0x00, 0x00, 0x00}, // a 3.1.1 CONNACK has no properties
        {0x20, 0x01, 0x00},             // too short
        {0x20, 0x00},                   // empty
        {0x20, 0x02, 0x00},             // truncated span
        {0x20, 0x02, 0x00, 0x00, 0xD0}, // more than one packet in the span
        {0xD0, 0x00},                   // another type
        {0x21, 0x02, 0x00, 0x00},       // fixed-header flags
        {},
    };
    for (const auto& packet : cases) {
        boost::system::error_code ec;
        EXPECT_EQ(decode_connack(packet, v311, ec), std::nullopt)
            << ::testing::PrintToString(packet);
        EXPECT_EQ(ec, malformed) << ::testing::PrintToString(packet);
    }
}

TEST(MqttConnackDecode, V5WithoutProperties) {
    boost::system::error_code ec;
    const auto c = decode_connack(bytes{0x20, 0x03, 0x01, 0x00, 0x00}, v5, ec);
    ASSERT_TRUE(c) << ec.message();
    EXPECT_TRUE(c->session_present);
    EXPECT_EQ(c->code, 0x00);
    EXPECT_EQ(c->reason_string, "");
}

TEST(MqttConnackDecode, V5FromAV311OnlyServerRefusingTheVersion) {
    // A 3.1.1 server answers a level-5 CONNECT with its own 2-byte CONNACK, code 1.
    boost::system::error_code ec;
    const auto c = decode_connack(bytes{0x20, 0x02, 0x00, 0x01}, v5, ec);
    ASSERT_TRUE(c) << ec.message();
    EXPECT_EQ(c->code, 0x01);
    EXPECT_EQ(connack_error(c->code, v5), make_error_code(error::unsupported_version));
}

TEST(MqttConnackDecode, V5EveryConnackProperty) {
    const bytes properties = {
        0x11, 0x00, 0x00, 0x0E, 0x10,            // Session Expiry Interval 3600
        0x21, 0x00, 0x0A,                        // Receive Maximum 10
        0x24, 0x01,                              // Maximum QoS 1
        0x25, 0x00,                              // Retain Available 0
        0x27, 0x00, 0x01, 0x00, 0x00,            // Maximum Packet Size 65536
        0x12, 0x00, 0x03, 'h',  'b',  '1',       // Assigned Client Identifier
        0x22, 0x00, 0x05,                        // Topic Alias Maximum 5
        0x1F, 0x00, 0x02, 'o',  'k',             // Reason String
        0x26, 0x00, 0x01, 'k',  0x00, 0x01, 'v', // User Property k=v
        0x26, 0x00, 0x01, 'k',  0x00, 0x01, 'w', // User Property k=w (may repeat)
        0x28, 0x01,                              // Wildcard Subscription Available
        0x29, 0x00,                              // Subscription Identifiers Available
        0x2A, 0x01,                              // Shared Subscription Available
        0x13, 0x00, 0x1E,                        // Server Keep Alive 30
        0x1A, 0x00, 0x01, 'r',                   // Response Information
        0x1C, 0x00, 0x01, 's',                   // Server Reference
        0x15, 0x00, 0x01, 'm',                   // Authentication Method
        0x16, 0x00, 0x02, 0x00, 0xFF,            // Authentication Data
    };
    boost::system::error_code ec;
    const auto c = decode_connack(connack_v5(0x00, 0x00, properties), v5, ec);
    ASSERT_TRUE(c) << ec.message();
    EXPECT_FALSE(ec);
    EXPECT_FALSE(c->session_present);
    EXPECT_EQ(c->code, 0x00);
    EXPECT_EQ(c->server_keep_alive_s, 30);
    EXPECT_EQ(c->assigned_client_id, "hb1");
    EXPECT_EQ(c->reason_string, "ok");
    EXPECT_EQ(c->maximum_packet_size, 65'536u);
}

TEST(MqttConnackDecode, V5RefusalWithReasonString) {
    const bytes properties = {0x1F, 0x00, 0x06, 'b', 'a', 'n', 'n', 'e', 'd'};
    boost::system::error_code ec;
    const auto c = decode_connack(connack_v5(0x00, 0x8A, properties), v5, ec);
    ASSERT_TRUE(c) << ec.message();
    EXPECT_EQ(c->code, 0x8A);
    EXPECT_EQ(c->reason_string, "banned");
    EXPECT_EQ(connack_error(c->code, v5), make_error_code(error::not_authorized));
}

TEST(MqttConnackDecode, V5BadPropertiesAreMalformed) {
    const std::map<std::string, bytes> cases = {
        {"unknown id", connack_v5(0, 0, {0x7F, 0x00})},
        {"PUBLISH-only id", connack_v5(0, 0, {0x01, 0x01})}, // Payload Format Indicator
        {"multi-byte id", connack_v5(0, 0, {0x80, 0x01, 0x00})},
        {"truncated u16", connack_v5(0, 0, {0x13, 0x00})},
        {"truncated u32", connack_v5(0, 0, {0x11, 0x00, 0x00, 0x0E})},
        {"truncated string", connack_v5(0, 0, {0x1F, 0x00, 0x05, 'a', 'b'})},
        {"user property without value", connack_v5(0, 0, {0x26, 0x00, 0x01, 'k'})},
        {"duplicate", connack_v5(0, 0, {0x13, 0x00, 0x1E, 0x13, 0x00, 0x1F})},
        {"receive maximum 0", connack_v5(0, 0, {0x21, 0x00, 0x00})},
        {"maximum packet size 0", connack_v5(0, 0, {0x27, 0x00, 0x00, 0x00, 0x00})},
        {"maximum QoS 2", connack_v5(0, 0, {0x24, 0x02})},
        {"retain available 2", connack_v5(0, 0, {0x25, 0x02})},
        {"shared available 2", connack_v5(0, 0, {0x2A, 0x02})},
        {"reserved flag", connack_v5(0x02, 0, {})},
        // The property length claims more than the packet holds.
        {"overlong length", {0x20, 0x05, 0x00, 0x00, 0x09, 0x13, 0x00}},
        // Bytes after the properties: a CONNACK has no payload.
        {"trailing bytes", {0x20, 0x04, 0x00, 0x00, 0x00, 0xAA}},
        // A property value running past the property length into the trailing byte.
        {"value past length", {0x20, 0x06, 0x00, 0x00, 0x02, 0x13, 0x00, 0x1E}},
        {"unfinished length", {0x20, 0x03, 0x00, 0x00, 0x80}},
    };
    for (const auto& [name, packet] : cases) {
        boost::system::error_code ec;
        EXPECT_EQ(decode_connack(packet, v5, ec), std::nullopt) << name;
        EXPECT_EQ(ec, malformed) << name;
    }
}

TEST(MqttConnackError, V311EveryCode) {
    const std::map<int, error> refusals = {{1, error::unsupported_version},
                                           {2, error::client_id_rejected},
                                           {3, error::server_unavailable},
                                           {4, error::authentication_failed},
                                           {5, error::not_authorized}};
    EXPECT_EQ(connack_error(0, v311), boost::system::error_code{});
    for (int code = 1; code < 256; ++code) {
        const auto it = refusals.find(code);
        const error expected = it != refusals.end() ? it->second : error::handshake_failed;
        EXPECT_EQ(connack_error(static_cast<std::uint8_t>(code), v311), make_error_code(expected))
            << code;
    }
}

TEST(MqttConnackError, V5EveryCode) {
    const std::map<int, error> refusals = {
        {0x01, error::unsupported_version},   {0x84, error::unsupported_version},
        {0x85, error::client_id_rejected},    {0x86, error::authentication_failed},
        {0x8C, error::authentication_failed}, {0x87, error::not_authorized},
        {0x8A, error::not_authorized},        {0x88, error::server_unavailable},
        {0x89, error::server_unavailable},    {0x9C, error::server_unavailable},
        {0x9D, error::server_unavailable},
    };
    EXPECT_EQ(connack_error(0, v5), boost::system::error_code{});
    for (int code = 1; code < 256; ++code) {
        const auto it = refusals.find(code);
        const error expected = it != refusals.end() ? it->second : error::handshake_failed;
        EXPECT_EQ(connack_error(static_cast<std::uint8_t>(code), v5), make_error_code(expected))
            << std::hex << code;
    }
}

} // namespace
} // namespace heartbeat::mqtt
