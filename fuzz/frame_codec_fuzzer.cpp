// The native frame decoder on arbitrary bytes: parse_frame, peek_data_frame (the reader's fast
// path) and frame_decoder (the same bytes fed in slices) must agree, never claim more bytes than
// they were given, and every frame they accept must re-encode to exactly the bytes it came from
// (the format has one encoding per frame, so anything else means a field was misread).
#include "support/fuzz_check.hpp"

#include <heartbeat/protocol/native/frame_codec.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace hb = heartbeat;
using bytes = std::span<const std::uint8_t>;

namespace {

// A small limit reaches frame_too_large; the session's default reaches everything else.
constexpr std::size_t max_payloads[] = {64, std::size_t{1} << 20};

void check_one(bytes input, std::size_t max_payload, const hb::parse_result& r) {
    using status = hb::parse_result::status;
    switch (r.st) {
    case status::frame: {
        HEARTBEAT_FUZZ_CHECK(r.consumed >= hb::frame_header_size && r.consumed <= input.size());
        HEARTBEAT_FUZZ_CHECK(r.consumed - hb::frame_header_size <= max_payload);
        std::vector<std::uint8_t> again;
        hb::encode_append(r.value, again);
        HEARTBEAT_FUZZ_CHECK(again.size() == r.consumed);
        HEARTBEAT_FUZZ_CHECK(std::ranges::equal(again, input.first(r.consumed)));
        break;
    }
    case status::need_more:
        HEARTBEAT_FUZZ_CHECK(r.need > input.size());
        HEARTBEAT_FUZZ_CHECK(r.need <= hb::frame_header_size + max_payload);
        break;
    case status::error:
        HEARTBEAT_FUZZ_CHECK(r.ec == hb::error::unknown_frame_type ||
                             r.ec == hb::error::frame_too_large ||
                             r.ec == hb::error::malformed_frame);
        break;
    }
    if (const auto d = hb::peek_data_frame(input, max_payload)) {
        HEARTBEAT_FUZZ_CHECK(r.st == status::frame && r.consumed == d->consumed);
        const auto* parsed = std::get_if<hb::data_frame>(&r.value);
        HEARTBEAT_FUZZ_CHECK(parsed != nullptr && parsed->fin == d->fin);
        HEARTBEAT_FUZZ_CHECK(parsed->payload.data() == d->payload.data() &&
                             parsed->payload.size() == d->payload.size());
    }
}

// Frames of the whole input, one shot: the reference the sliced decoder must match.
std::vector<hb::parse_result> parse_all(bytes input, std::size_t max_payload) {
    std::vector<hb::parse_result> out;
    for (;;) {
        auto r = hb::parse_frame(input, max_payload);
        check_one(input, max_payload, r);
        out.push_back(r);
        if (r.st != hb::parse_result::status::frame)
            return out;
        input = input.subspan(r.consumed);
    }
}

std::vector<std::uint8_t> encoded(const hb::frame& f) {
    std::vector<std::uint8_t> out;
    hb::encode_append(f, out);
    return out;
}

// Slices of 1, 2, ... 7 bytes, then the rest, so partial headers and payloads are exercised.
void check_decoder(bytes input, std::size_t max_payload,
                   const std::vector<hb::parse_result>& reference) {
    hb::frame_decoder decoder(max_payload);
    std::size_t next_reference = 0;
    std::size_t slice = 1;
    std::size_t fed = 0;
    bool failed = false;
    while (fed < input.size() && !failed) {
        const std::size_t n =
            slice < 8 ? std::min(slice++, input.size() - fed) : input.size() - fed;
        decoder.feed(input.subspan(fed, n));
        fed += n;
        for (;;) {
            const hb::parse_result r = decoder.next();
            if (r.st == hb::parse_result::status::need_more) {
                HEARTBEAT_FUZZ_CHECK(r.need > decoder.buffered());
                break;
            }
            HEARTBEAT_FUZZ_CHECK(next_reference < reference.size());
            const hb::parse_result& want = reference[next_reference++];
            HEARTBEAT_FUZZ_CHECK(r.st == want.st);
            if (r.st == hb::parse_result::status::error) {
                HEARTBEAT_FUZZ_CHECK(r.ec == want.ec);
                HEARTBEAT_FUZZ_CHECK(decoder.next().ec == r.ec); // sticky
                failed = true;
                break;
            }
            HEARTBEAT_FUZZ_CHECK(r.consumed == want.consumed);
            HEARTBEAT_FUZZ_CHECK(encoded(r.value) == encoded(want.value));
        }
    }
    const auto end = decoder.finish();
    const hb::parse_result& last = reference.back();
    if (last.st == hb::parse_result::status::error)
        HEARTBEAT_FUZZ_CHECK(end == last.ec);
    else if (decoder.buffered() == 0)
        HEARTBEAT_FUZZ_CHECK(!end);
    else
        HEARTBEAT_FUZZ_CHECK(end == hb::error::truncated_frame);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const bytes input(data, size);
    for (const std::size_t max_payload : max_payloads) {
        const auto reference = parse_all(input, max_payload);
        check_decoder(input, max_payload, reference);
    }
    return 0;
}
