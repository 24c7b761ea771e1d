// A whole line-protocol session fed arbitrary inbound bytes over an in-memory stream: PING
// lines answered by PONG lines in order, other lines delivered, long lines refused. Variant bit:
// LF endings and prefix matching ("+PONG" style replies). Input layout and invariants in
// support/session_harness.hpp.
#include "support/session_harness.hpp"

#include <heartbeat/protocol/line/line_profile.hpp>
#include <heartbeat/session/session.hpp>
#include <heartbeat/session/stream_link.hpp>
#include <heartbeat/session/stream_session_impl.hpp>

namespace hb = heartbeat;
using fuzzed_session = hb::session<hb::stream_link<hb::line_profile, hb::fuzz::memory_stream>>;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto in = hb::fuzz::split_input(data, size);
    if (!in)
        return 0;
    hb::line_config config;
    hb::fuzz::use_fast_timings(config);
    config.max_line_length = 64;
    config.goodbye = "QUIT";
    if (in->variant) {
        config.ending = hb::line::line_ending::lf;
        config.match = hb::line::match_kind::prefix;
        config.pong = "+PONG";
    }
    hb::fuzz::run_session<fuzzed_session>(*in, config, "HELLO there");
    return 0;
}
