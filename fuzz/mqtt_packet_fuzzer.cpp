// MQTT framing and the packet decoders a client runs on what a broker sends, on arbitrary bytes.
// First byte: bit 7 picks MQTT 5 (set) or 3.1.1, bits 0-1 the maximum packet size; the rest is
// the byte stream, scanned packet after packet. Checked:
//   - scan_packet never claims more bytes than it was given, sizes a packet as header plus
//     remaining length, and says need_more (never a different verdict) on every prefix of a
//     packet it accepts;
//   - every decoder refuses another packet type, and what decode_publish accepts, encoded again,
//     decodes to the same message;
//   - decode_connack's code maps to a named error or success, never throws.
#include "support/fuzz_check.hpp"

#include <heartbeat/core/error.hpp>
#include <heartbeat/protocol/mqtt/detail/mqtt_wire.hpp>
#include <heartbeat/protocol/mqtt/mqtt_connect.hpp>
#include <heartbeat/protocol/mqtt/mqtt_control.hpp>
#include <heartbeat/protocol/mqtt/mqtt_packet.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace hb = heartbeat;
namespace mqtt = heartbeat::mqtt;
using bytes = std::span<const std::uint8_t>;

namespace {

bytes as_bytes(std::string_view s) {
    return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}

bool encodable_topic(std::string_view topic) {
    return !topic.empty() && topic.find_first_of("+#") == std::string_view::npos;
}

void check_publish(bytes packet, mqtt::protocol_version version) {
    boost::system::error_code ec;
    const auto p = mqtt::decode_publish(packet, version, ec);
    HEARTBEAT_FUZZ_CHECK(p.has_value() == !ec);
    if (!p)
        return;
    HEARTBEAT_FUZZ_CHECK(p->qos <= 2);
    HEARTBEAT_FUZZ_CHECK((p->qos == 0) == (p->packet_id == 0));
    if (!encodable_topic(p->topic))
        return;
    const std::string again =
        mqtt::encode_publish(p->topic, p->payload, p->qos, p->retain, p->packet_id, version);
    const auto q = mqtt::decode_publish(as_bytes(again), version, ec);
    HEARTBEAT_FUZZ_CHECK(q.has_value());
    HEARTBEAT_FUZZ_CHECK(q->topic == p->topic && q->payload == p->payload && q->qos == p->qos &&
                         q->retain == p->retain && q->packet_id == p->packet_id && !q->dup);
}

void check_packet(bytes packet, const mqtt::packet_scan& scan, mqtt::protocol_version version) {
    using mqtt::packet_type;
    HEARTBEAT_FUZZ_CHECK(mqtt::is_pingresp(packet) == mqtt::is_pingresp(scan));
    (void)mqtt::to_string(scan.type);
    (void)mqtt::server_may_send(scan.type, version);

    boost::system::error_code ec;
    const auto connack = mqtt::decode_connack(packet, version, ec);
    HEARTBEAT_FUZZ_CHECK(connack.has_value() == !ec);
    if (connack) {
        HEARTBEAT_FUZZ_CHECK(scan.type == packet_type::connack);
        const auto refusal = mqtt::connack_error(connack->code, version);
        HEARTBEAT_FUZZ_CHECK(!refusal == (connack->code == 0));
        HEARTBEAT_FUZZ_CHECK(!refusal || refusal.category() == hb::heartbeat_category());
        if (connack->maximum_packet_size)
            HEARTBEAT_FUZZ_CHECK(*connack->maximum_packet_size != 0);
    } else {
        HEARTBEAT_FUZZ_CHECK(ec == hb::error::malformed_frame);
    }

    check_publish(packet, version);
    if (scan.type != packet_type::publish)
        HEARTBEAT_FUZZ_CHECK(!mqtt::decode_publish(packet, version, ec));

    const auto suback = mqtt::decode_suback(packet, version, ec);
    HEARTBEAT_FUZZ_CHECK(suback.has_value() == !ec);
    if (suback) {
        HEARTBEAT_FUZZ_CHECK(scan.type == packet_type::suback);
        HEARTBEAT_FUZZ_CHECK(!suback->empty());
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const auto version =
        (data[0] & 0x80) ? mqtt::protocol_version::v5 : mqtt::protocol_version::v311;
    const std::size_t limits[] = {2, 64, 4096, 268'435'460};
    const std::size_t max_packet = limits[data[0] & 0x03];
    bytes rest(data + 1, size - 1);

    // The decoders on the raw bytes too: they must check framing themselves, not trust a caller.
    boost::system::error_code ec;
    (void)mqtt::decode_connack(rest, version, ec);
    (void)mqtt::decode_suback(rest, version, ec);
    check_publish(rest, version);

    for (;;) {
        const mqtt::packet_scan scan = mqtt::scan_packet(rest, max_packet);
        using status = mqtt::packet_scan::status;
        if (scan.st == status::error) {
            HEARTBEAT_FUZZ_CHECK(scan.ec == hb::error::malformed_frame ||
                                 scan.ec == hb::error::frame_too_large);
            HEARTBEAT_FUZZ_CHECK(scan.consumed == 0);
            break;
        }
        if (scan.header_size != 0) {
            HEARTBEAT_FUZZ_CHECK(scan.header_size >= 2 && scan.header_size <= 5);
            HEARTBEAT_FUZZ_CHECK(scan.remaining_length <= mqtt::detail::max_variable_byte_integer);
            HEARTBEAT_FUZZ_CHECK(scan.header_size + scan.remaining_length <= max_packet);
        }
        if (scan.st == status::need_more) {
            HEARTBEAT_FUZZ_CHECK(scan.consumed == 0);
            HEARTBEAT_FUZZ_CHECK(scan.header_size == 0 ||
                                 scan.header_size + scan.remaining_length > rest.size());
            break;
        }
        HEARTBEAT_FUZZ_CHECK(scan.consumed == scan.header_size + scan.remaining_length);
        HEARTBEAT_FUZZ_CHECK(scan.consumed <= rest.size());
        const bytes packet = rest.first(scan.consumed);
        for (std::size_t cut = 0; cut < packet.size(); cut += 1 + cut / 2)
            HEARTBEAT_FUZZ_CHECK(mqtt::scan_packet(packet.first(cut), max_packet).st ==
                                 status::need_more);
        check_packet(packet, scan, version);
        rest = rest.subspan(scan.consumed);
    }
    return 0;
}
