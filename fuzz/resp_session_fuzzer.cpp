// A whole Redis (RESP) session fed arbitrary inbound bytes over an in-memory stream: the HELLO 3
// handshake (variant bit: RESP2, AUTH and SELECT and PING instead), replies matched to PINGs and
// commands by order, pushes. Input layout and invariants in support/session_harness.hpp.
#include "support/session_harness.hpp"

#include <heartbeat/protocol/resp/resp_profile.hpp>
#include <heartbeat/session/session.hpp>
#include <heartbeat/session/stream_link.hpp>
#include <heartbeat/session/stream_session_impl.hpp>

namespace hb = heartbeat;
using fuzzed_session = hb::session<hb::stream_link<hb::resp_profile, hb::fuzz::memory_stream>>;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto in = hb::fuzz::split_input(data, size);
    if (!in)
        return 0;
    hb::resp_config config;
    hb::fuzz::use_fast_timings(config);
    if (in->variant) {
        config.protocol = 2;
        config.password = "secret";
        config.database = 3;
    } else {
        config.client_name = "fuzz";
    }
    hb::fuzz::run_session<fuzzed_session>(*in, config, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    return 0;
}
