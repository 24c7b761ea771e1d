// The HELLO handshake's inputs: the input's first 34 bytes are a HELLO payload as a peer could
// send it, the next 4 our own interval in ms. The HELLO must decode to exactly the fields its
// bytes carry, and negotiate_interval must honour the peer's range or name it incompatible.
// (The whole path, HELLO to the monitor's interval, runs in native_session_fuzzer.)
#include "support/fuzz_check.hpp"

#include <heartbeat/core/interval_negotiation.hpp>
#include <heartbeat/protocol/native/frame_codec.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace hb = heartbeat;

namespace {

constexpr std::size_t hello_payload_size = 34;

std::uint64_t load_big(const std::uint8_t* p, int n) {
    std::uint64_t v = 0;
    for (int i = 0; i < n; ++i)
        v = v << 8 | p[i];
    return v;
}

void check_negotiation(hb::duration ours, hb::duration peer_min, hb::duration peer_max) {
    const auto n = hb::negotiate_interval(ours, peer_min, peer_max);
    const bool unlimited = peer_max == hb::duration::zero();
    if (!unlimited && peer_min > peer_max) {
        HEARTBEAT_FUZZ_CHECK(n.ec == hb::error::incompatible_interval);
        return;
    }
    HEARTBEAT_FUZZ_CHECK(!n.ec);
    HEARTBEAT_FUZZ_CHECK(n.interval >= peer_min);              // never faster than its floor
    HEARTBEAT_FUZZ_CHECK(unlimited || n.interval <= peer_max); // never slower than its ceiling
    if (ours >= peer_min && (unlimited || ours <= peer_max))
        HEARTBEAT_FUZZ_CHECK(n.interval == ours); // ours is kept when the peer accepts it
    HEARTBEAT_FUZZ_CHECK(n.interval > hb::duration::zero() || ours == hb::duration::zero());
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < hello_payload_size)
        return 0;
    std::vector<std::uint8_t> wire(hb::frame_header_size);
    hb::encode_header(hb::frame_type::hello, 0, hello_payload_size, wire.data());
    wire.insert(wire.end(), data, data + hello_payload_size);

    const auto r = hb::parse_frame(wire, 1u << 20);
    HEARTBEAT_FUZZ_CHECK(r.st == hb::parse_result::status::frame && r.consumed == wire.size());
    const auto* hello = std::get_if<hb::hello_frame>(&r.value);
    HEARTBEAT_FUZZ_CHECK(hello != nullptr);
    HEARTBEAT_FUZZ_CHECK(hello->version == load_big(data, 2));
    HEARTBEAT_FUZZ_CHECK(hello->min_interval_ms == load_big(data + 2, 4));
    HEARTBEAT_FUZZ_CHECK(hello->max_interval_ms == load_big(data + 6, 4));
    HEARTBEAT_FUZZ_CHECK(hello->session_id == load_big(data + 10, 8));
    HEARTBEAT_FUZZ_CHECK(hello->features == load_big(data + 18, 8));
    HEARTBEAT_FUZZ_CHECK(hello->first_seq == load_big(data + 26, 8));

    // A HELLO whose length field lies is malformed, whatever its bytes.
    for (const std::uint32_t wrong : {0u, 33u, 35u}) {
        std::vector<std::uint8_t> bad = wire;
        hb::encode_header(hb::frame_type::hello, 0, wrong, bad.data());
        bad.resize(hb::frame_header_size + wrong, 0);
        HEARTBEAT_FUZZ_CHECK(hb::parse_frame(bad, 1u << 20).ec == hb::error::malformed_frame);
    }

    // Our interval: from the input when given, else the defaults' 2 s; validate() keeps it in
    // (0, 24 h], which 32 bits of ms exceed, so both in-range and absurd values are tried.
    const std::uint64_t ours_ms =
        size >= hello_payload_size + 4 ? load_big(data + hello_payload_size, 4) : 2000;
    const hb::duration peer_min = std::chrono::milliseconds(hello->min_interval_ms);
    const hb::duration peer_max = std::chrono::milliseconds(hello->max_interval_ms);
    check_negotiation(std::chrono::milliseconds(std::max<std::uint64_t>(ours_ms, 1)), peer_min,
                      peer_max);
    check_negotiation(std::chrono::milliseconds(ours_ms % 86'400'000 + 1), peer_min, peer_max);
    return 0;
}
