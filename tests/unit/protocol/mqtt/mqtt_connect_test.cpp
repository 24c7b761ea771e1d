#include <heartbeat/protocol/mqtt/mqtt_connect.hpp>

#include "mqtt_test_bytes.hpp"

#include <gtest/gtest.h>

#include <string>

namespace heartbeat::mqtt {
namespace {

using test::bytes;
using test::to_bytes;

// Expected packets are written out from MQTT 3.1.1 §3.1 and MQTT 5 §3.1, not built by code.

TEST(MqttConnectEncode, V311WithoutCredentials) {
    const connect_options o{.client_id = "hb", .keep_alive_s = 60};
    EXPECT_EQ(to_bytes(encode_connect(o)), (bytes{
                                               0x10, 0x0E,                     // CONNECT, 14
                                               0x00, 0x04, 'M', 'Q', 'T', 'T', // name
                                               0x04,                           // level 4
                                               0x02,                           // clean session
                                               0x00, 0x3C,                     // keep alive 60
                                               0x00, 0x02, 'h', 'b',           // client id
                                           }));
}

TEST(MqttConnectEncode, V311WithCredentials) {
    const connect_options o{.client_id = "hb",
                            .clean_start = true,
                            .keep_alive_s = 60,
                            .username = "u",
                            .password = "pw"};
    EXPECT_EQ(to_bytes(encode_connect(o)), (bytes{
                                               0x10, 0x15,                     // CONNECT, 21
                                               0x00, 0x04, 'M', 'Q', 'T', 'T', // name
                                               0x04,                           // level 4
                                               0xC2,       // username, password, clean session
                                               0x00, 0x3C, // keep alive 60
                                               0x00, 0x02, 'h', 'b', // client id
                                               0x00, 0x01, 'u',      // username
                                               0x00, 0x02, 'p', 'w', // password
                                           }));
}

TEST(MqttConnectEncode, V311PersistentSessionAndKeepAliveExtremes) {
    const connect_options o{.client_id = "c", .clean_start = false, .keep_alive_s = 0xFFFF};
    EXPECT_EQ(to_bytes(encode_connect(o)), (bytes{0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04,
                                                  0x00, 0xFF, 0xFF, 0x00, 0x01, 'c'}));
    const connect_options off{.client_id = "c", .keep_alive_s = 0};
    EXPECT_EQ(to_bytes(encode_connect(off)), (bytes{0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T',
                                                    0x04, 0x02, 0x00, 0x00, 0x00, 0x01, 'c'}));
}

TEST(MqttConnectEncode, V5WithSessionExpiry) {
    const connect_options o{.version = protocol_version::v5,
                            .client_id = "hb",
                            .keep_alive_s = 60,
                            .session_expiry_s = 3600};
    EXPECT_EQ(to_bytes(encode_connect(o)), (bytes{
                                               0x10, 0x14,                        // CONNECT, 20
                                               0x00, 0x04, 'M',  'Q',  'T',  'T', // name
                                               0x05,                              // level 5
                                               0x02,                              // clean start
                                               0x00, 0x3C,                        // keep alive 60
                                               0x05,                              // properties: 5
                                               0x11, 0x00, 0x00, 0x0E, 0x10,      // session expiry
                                               0x00, 0x02, 'h',  'b',             // client id
                                           }));
}

TEST(MqttConnectEncode, V5WithoutPropertiesAndPasswordOnly) {
    // MQTT 5 lets a password go without a user name (5 §3.1.2.9).
    const connect_options o{.version = protocol_version::v5,
                            .client_id = "",
                            .keep_alive_s = 30,
                            .password = std::string("\x00\xFF", 2)};
    EXPECT_EQ(to_bytes(encode_connect(o)), (bytes{
                                               0x10, 0x11,                       // CONNECT, 17
                                               0x00, 0x04, 'M',  'Q',  'T', 'T', // name
                                               0x05,                             // level 5
                                               0x42,                   // password, clean start
                                               0x00, 0x1E,             // keep alive 30
                                               0x00,                   // no properties
                                               0x00, 0x00,             // empty client id
                                               0x00, 0x02, 0x00, 0xFF, // password
                                           }));
}

TEST(MqttConnectEncode, LongClientIdUsesATwoByteRemainingLength) {
    const connect_options o{.client_id = std::string(200, 'x')};
    const auto packet = to_bytes(encode_connect(o));
    ASSERT_EQ(packet.size(), 3u + 12u + 200u);
    EXPECT_EQ(packet[0], 0x10);
    EXPECT_EQ(packet[1], 0x80 | (212 & 0x7F)); // 212 = 0xD4 0x01
    EXPECT_EQ(packet[2], 0x01);
    EXPECT_EQ(packet[13], 0x00); // client id length 200
    EXPECT_EQ(packet[14], 200);
    const auto scan = scan_packet(packet, packet.size());
    EXPECT_EQ(scan.st, packet_scan::status::complete);
    EXPECT_EQ(scan.type, packet_type::connect);
    EXPECT_EQ(scan.remaining_length, 212u);
}

TEST(MqttConnectValidate, AcceptsTheDefaultsAndTypicalOptions) {
    EXPECT_EQ(validate(connect_options{}), std::nullopt);
    EXPECT_EQ(validate({.client_id = "sensor-7", .username = "u", .password = "p"}), std::nullopt);
    EXPECT_EQ(validate({.version = protocol_version::v5,
                        .client_id = "",
                        .clean_start = false,
                        .password = "p",
                        .session_expiry_s = 0xFFFFFFFF}),
              std::nullopt);
    EXPECT_EQ(validate({.client_id = std::string(65'535, 'a')}), std::nullopt);
    EXPECT_EQ(validate({.client_id = "c", .username = "u", .password = std::string("\0", 1)}),
              std::nullopt); // a password is binary data
}

TEST(MqttConnectValidate, NamesWhatIsWrong) {
    EXPECT_EQ(validate({.client_id = std::string(65'536, 'a')}),
              "client_id is longer than 65535 bytes");
    EXPECT_EQ(validate({.client_id = "c", .username = std::string(65'536, 'u')}),
              "username is longer than 65535 bytes");
    EXPECT_EQ(validate({.client_id = "c", .username = "u", .password = std::string(65'536, 'p')}),
              "password is longer than 65535 bytes");
    EXPECT_EQ(validate({.client_id = "\xC0\x80"}),
              "client_id is not well-formed UTF-8 without U+0000");
    EXPECT_EQ(validate({.client_id = "c", .username = std::string("a\0", 2)}),
              "username is not well-formed UTF-8 without U+0000");
    EXPECT_EQ(validate({.client_id = "", .clean_start = false}),
              "an empty client_id needs clean_start in MQTT 3.1.1");
    EXPECT_EQ(validate({.client_id = "c", .password = "p"}),
              "a password needs a username in MQTT 3.1.1");
    EXPECT_EQ(validate({.client_id = "c", .session_expiry_s = 1}),
              "session_expiry_s is an MQTT 5 property; MQTT 3.1.1 cannot send it");
    EXPECT_EQ(validate({.version = static_cast<protocol_version>(3), .client_id = "c"}),
              "version must be v311 (4) or v5 (5)");
}

} // namespace
} // namespace heartbeat::mqtt
