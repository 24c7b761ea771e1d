// Hostile input for the MQTT decoders: random bytes and randomly damaged valid packets must give
// a clean result or malformed_frame, never a crash or a read out of bounds (run under ASan).
#include <heartbeat/protocol/mqtt/mqtt_connect.hpp>
#include <heartbeat/protocol/mqtt/mqtt_control.hpp>

#include "mqtt_test_bytes.hpp"

#include <heartbeat/core/error.hpp>

#include <gtest/gtest.h>

#include <random>

namespace heartbeat::mqtt {
namespace {

using test::bytes;

const boost::system::error_code malformed = make_error_code(error::malformed_frame);

void check_scan(std::span<const std::uint8_t> in, std::size_t max) {
    const auto scan = scan_packet(in, max);
    switch (scan.st) {
    case packet_scan::status::complete:
        ASSERT_FALSE(scan.ec);
        ASSERT_GE(scan.header_size, 2u);
        ASSERT_LE(scan.header_size, 5u);
        ASSERT_EQ(scan.consumed, scan.header_size + scan.remaining_length);
        ASSERT_LE(scan.consumed, in.size());
        ASSERT_LE(scan.consumed, max);
        break;
    case packet_scan::status::need_more:
        ASSERT_FALSE(scan.ec);
        ASSERT_EQ(scan.consumed, 0u);
        if (scan.header_size != 0) {
            ASSERT_GT(scan.header_size + scan.remaining_length, in.size());
        }
        break;
    case packet_scan::status::error:
        ASSERT_TRUE(scan.ec == make_error_code(error::malformed_frame) ||
                    scan.ec == make_error_code(error::frame_too_large));
        break;
    }
}

// Every decoder either succeeds with ec clear or fails with malformed_frame.
template <class Decode>
void check_decoder(std::span<const std::uint8_t> in, Decode decode) {
    for (auto version : {protocol_version::v311, protocol_version::v5}) {
        boost::system::error_code ec;
        const bool decoded = decode(in, version, ec).has_value();
        ASSERT_EQ(decoded, !ec);
        if (ec) {
            ASSERT_EQ(ec, malformed);
        }
    }
}

void check_all(std::span<const std::uint8_t> in) {
    check_scan(in, 64);
    check_scan(in, 1 << 20);
    check_decoder(in, [](auto in, auto v, auto& ec) { return decode_connack(in, v, ec); });
    check_decoder(in, [](auto in, auto v, auto& ec) { return decode_publish(in, v, ec); });
    check_decoder(in, [](auto in, auto v, auto& ec) { return decode_suback(in, v, ec); });
    (void)is_pingresp(in);
}

TEST(MqttRandomInput, RandomBytes) {
    std::mt19937 rng{7};
    std::uniform_int_distribution<int> byte{0, 255};
    std::uniform_int_distribution<std::size_t> length{0, 24};
    for (int round = 0; round < 50'000; ++round) {
        bytes in(length(rng));
        for (auto& b : in) {
            b = static_cast<std::uint8_t>(byte(rng));
        }
        check_all(in);
        if (HasFatalFailure()) {
            FAIL() << testing::PrintToString(in);
        }
    }
}

TEST(MqttRandomInput, DamagedValidPackets) {
    const bytes seeds[] = {
        test::to_bytes(encode_publish("a/b", "payload", 1, true, 9, protocol_version::v5)),
        test::to_bytes(encode_publish("a/b", "payload", 0, false, 0, protocol_version::v311)),
        {0x20, 0x0E, 0x00, 0x00, 0x0B, 0x13, 0x00, 0x1E, 0x12, 0x00, 0x01, 'x', 0x26, 0x00, 0x00,
         0x00},
        {0x90, 0x05, 0x00, 0x01, 0x00, 0x01, 0x80},
        {0x20, 0x02, 0x00, 0x00},
    };
    std::mt19937 rng{11};
    std::uniform_int_distribution<int> byte{0, 255};
    for (const auto& seed : seeds) {
        for (int round = 0; round < 5'000; ++round) {
            bytes in = seed;
            std::uniform_int_distribution<std::size_t> at{0, in.size() - 1};
            for (int flips = round % 3 + 1; flips > 0; --flips) {
                in[at(rng)] = static_cast<std::uint8_t>(byte(rng));
            }
            if (round % 4 == 0) {
                in.resize(at(rng)); // truncated as well
            }
            check_all(in);
            if (HasFatalFailure()) {
                FAIL() << testing::PrintToString(in);
            }
        }
    }
}

} // namespace
} // namespace heartbeat::mqtt
