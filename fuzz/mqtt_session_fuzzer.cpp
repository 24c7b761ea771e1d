// A whole MQTT client session fed arbitrary inbound bytes over an in-memory stream: CONNECT and
// the broker's CONNACK (variant bit: MQTT 5, with its properties), then PINGREQ/PINGRESP by
// order and any packet a broker may send. Input layout and invariants in
// support/session_harness.hpp.
#include "support/session_harness.hpp"

#include <heartbeat/protocol/mqtt/mqtt_control.hpp>
#include <heartbeat/protocol/mqtt/mqtt_profile.hpp>
#include <heartbeat/session/session.hpp>
#include <heartbeat/session/stream_link.hpp>
#include <heartbeat/session/stream_session_impl.hpp>

namespace hb = heartbeat;
using fuzzed_session = hb::session<hb::stream_link<hb::mqtt_profile, hb::fuzz::memory_stream>>;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto in = hb::fuzz::split_input(data, size);
    if (!in)
        return 0;
    hb::mqtt_config config;
    hb::fuzz::use_fast_timings(config);
    config.version =
        in->variant ? hb::mqtt::protocol_version::v5 : hb::mqtt::protocol_version::v311;
    config.client_id = "fuzz";
    config.keep_alive = std::chrono::seconds(1);
    const std::string publish =
        hb::mqtt::encode_publish("fuzz/topic", "payload", 1, false, 1, config.version);
    hb::fuzz::run_session<fuzzed_session>(*in, config, publish);
    return 0;
}
