// A whole native session (HELLO, PING/PONG, DATA, ACK, SLOW_DOWN, CLOSE) fed arbitrary inbound
// bytes over an in-memory stream; input layout and invariants in support/session_harness.hpp.
// Variant bit: the session is resumable (a session id and a resume store, the server's setup),
// which takes the HELLO down its resume path.
#include "support/session_harness.hpp"

#include <heartbeat/protocol/native/native_session.hpp>
#include <heartbeat/session/resume_store.hpp>
#include <heartbeat/session/stream_session_impl.hpp>

#include <memory>

namespace hb = heartbeat;
using fuzzed_session = hb::basic_session<hb::fuzz::memory_stream>;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const auto in = hb::fuzz::split_input(data, size);
    if (!in)
        return 0;
    hb::session_config config;
    hb::fuzz::use_fast_timings(config);
    config.max_frame_payload = 1024;
    config.chunk_size = 16; // the message below goes in chunks, with pings between them
    // Policing, so a burst of PINGs meets SLOW_DOWN and then too_many_pings.
    config.min_peer_ping_interval = std::chrono::seconds(1);
    config.max_ping_strikes = 2;
    config.max_peer_ping_interval = std::chrono::seconds(60);
    config.ack_delay = std::chrono::milliseconds(1);
    if (in->variant) {
        config.session_id = 42;
        config.first_seq = 7;
        config.resume = std::make_shared<hb::resume_store>(4);
    }
    hb::fuzz::run_session<fuzzed_session>(*in, config, std::string(100, 'm'));
    return 0;
}
