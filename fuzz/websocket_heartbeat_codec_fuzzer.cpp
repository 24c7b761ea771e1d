// The WebSocket heartbeat payloads a peer controls: control-frame ping payloads and the
// application-level heartbeat text. Input: one byte n, then a key of n % 33 bytes (the config
// allows 1 to 32), then the message text. Whatever parses must mean what it says: encoding the
// parsed message and parsing that gives the same message back.
#include "support/fuzz_check.hpp"

#include <heartbeat/protocol/websocket/websocket_heartbeat_codec.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hd = heartbeat::detail;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view all(reinterpret_cast<const char*>(data), size);

    std::uint64_t seq = 0, t = 0;
    if (hd::decode_ws_ping(all, seq, t)) {
        HEARTBEAT_FUZZ_CHECK(size == hd::ws_ping_payload_size);
        HEARTBEAT_FUZZ_CHECK(hd::encode_ws_ping(seq, t) == all);
    } else {
        HEARTBEAT_FUZZ_CHECK(size != hd::ws_ping_payload_size);
    }

    if (size == 0)
        return 0;
    const std::size_t key_size = std::min<std::size_t>(data[0] % 33, size - 1);
    const std::string_view key = all.substr(1, key_size);
    const std::string_view text = all.substr(1 + key_size);
    if (const auto m = hd::parse_app_heartbeat(key, text)) {
        const std::string again = hd::encode_app_heartbeat(key, *m);
        const auto back = hd::parse_app_heartbeat(key, again);
        HEARTBEAT_FUZZ_CHECK(back && back->ping == m->ping && back->seq == m->seq &&
                             back->send_time_us == m->send_time_us);
        // The echo of an encoded message is byte-identical; a parsed one differs at most in
        // leading zeros of its numbers.
        HEARTBEAT_FUZZ_CHECK(again.size() <= text.size());
    }
    // The text as a whole-message key: arbitrary keys must not confuse the parser either.
    (void)hd::parse_app_heartbeat(text, all);
    return 0;
}
