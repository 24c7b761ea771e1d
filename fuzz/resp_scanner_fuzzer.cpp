// The RESP reply scanner on arbitrary bytes, against itself and against parse_value:
//   - fed the input in growing prefixes (1, 2, ... bytes more each time), it reaches the same
//     verdict as on the whole input at once, and never claims more bytes than it was given;
//   - a reply it delimits parses with parse_value, with the same kind; a reply parse_value
//     accepts whole is one it delimits; where it finds a malformed byte, parse_value fails too
//     (the two promise the same validation).
// The first input byte picks the size bound (small ones reach frame_too_large); the rest is the
// byte stream, scanned reply after reply.
#include "support/fuzz_check.hpp"

#include <heartbeat/protocol/resp/resp_scanner.hpp>
#include <heartbeat/protocol/resp/resp_value.hpp>

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace hb = heartbeat;
namespace resp = heartbeat::resp;
using bytes = std::span<const std::uint8_t>;

namespace {

std::string_view text_of(bytes b) {
    return {reinterpret_cast<const char*>(b.data()), b.size()};
}

bool same(const resp::scan_result& a, const resp::scan_result& b) {
    return a.st == b.st && a.consumed == b.consumed && a.ec == b.ec &&
           (a.st != resp::scan_result::status::complete || a.kind == b.kind);
}

// Scans the reply at the start of `input` feeding it in prefixes that grow by 1, 2, 3, ...
resp::scan_result scan_in_steps(resp::resp_scanner& scanner, bytes input) {
    std::size_t visible = 0;
    std::size_t step = 1;
    for (;;) {
        visible = std::min(input.size(), visible + step++);
        const auto r = scanner.scan(input.first(visible));
        if (r.st != resp::scan_result::status::need_more || visible == input.size())
            return r;
    }
}

void check_against_parse_value(bytes input, const resp::scan_result& r, bool unbounded) {
    boost::system::error_code ec;
    using status = resp::scan_result::status;
    if (r.st == status::complete) {
        const auto v = resp::parse_value(text_of(input.first(r.consumed)), ec);
        HEARTBEAT_FUZZ_CHECK(v.has_value());
        HEARTBEAT_FUZZ_CHECK(v->kind == r.kind);
        (void)resp::to_string(*v);
    } else if (r.st == status::error && r.ec == hb::error::malformed_frame) {
        HEARTBEAT_FUZZ_CHECK(!resp::parse_value(text_of(input), ec));
    }
    if (unbounded && r.st != status::complete) {
        // Nothing complete in the input, so it cannot hold one whole reply either.
        HEARTBEAT_FUZZ_CHECK(!resp::parse_value(text_of(input), ec));
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const std::size_t bounds[] = {16, 256, 4096, std::size_t{512} << 20};
    const std::size_t max_reply = bounds[data[0] % 4];
    const bool unbounded = max_reply > size;
    bytes rest(data + 1, size - 1);

    resp::resp_scanner whole(max_reply);
    resp::resp_scanner stepped(max_reply);
    for (int replies = 0; replies < 10'000; ++replies) {
        const auto r = whole.scan(rest);
        const auto s = scan_in_steps(stepped, rest);
        HEARTBEAT_FUZZ_CHECK(same(r, s));
        if (r.st == resp::scan_result::status::complete)
            HEARTBEAT_FUZZ_CHECK(r.consumed > 0 && r.consumed <= rest.size());
        if (r.st == resp::scan_result::status::error)
            HEARTBEAT_FUZZ_CHECK(r.ec == hb::error::malformed_frame ||
                                 r.ec == hb::error::frame_too_large);
        check_against_parse_value(rest, r, unbounded);
        if (r.st != resp::scan_result::status::complete)
            break;
        rest = rest.subspan(r.consumed);
        if (r.consumed == 0)
            break;
    }
    return 0;
}
