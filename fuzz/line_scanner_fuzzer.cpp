// The line scanner on arbitrary bytes against a plain model: the first '\n' ends the line (in
// crlf mode a '\r' before it is stripped); a line longer than the limit, or more than the limit
// without a '\n' (barring a '\r' that may start the terminator), is frame_too_large. The input
// is also fed in prefixes growing by 1, 2, 3, ... bytes, which must give the same lines.
// First byte: bit 7 picks lf (set) or crlf, bits 0-6 the maximum line length (0-127).
#include "support/fuzz_check.hpp"

#include <heartbeat/core/error.hpp>
#include <heartbeat/protocol/line/line_scanner.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

namespace hb = heartbeat;
namespace line = heartbeat::line;
using bytes = std::span<const std::uint8_t>;

namespace {

line::line_scan model(bytes input, bool crlf, std::size_t max) {
    const auto nl = std::ranges::find(input, std::uint8_t{'\n'});
    if (nl != input.end()) {
        const auto at = static_cast<std::size_t>(nl - input.begin());
        const std::size_t length = crlf && at > 0 && input[at - 1] == '\r' ? at - 1 : at;
        if (length > max)
            return {.st = line::line_scan::status::error, .ec = hb::error::frame_too_large};
        return {.st = line::line_scan::status::complete,
                .consumed = at + 1,
                .line = {reinterpret_cast<const char*>(input.data()), length}};
    }
    const bool may_be_terminator = crlf && input.size() == max + 1 && input[max] == '\r';
    if (input.size() > max && !may_be_terminator)
        return {.st = line::line_scan::status::error, .ec = hb::error::frame_too_large};
    return {};
}

bool same(const line::line_scan& a, const line::line_scan& b) {
    return a.st == b.st && a.consumed == b.consumed && a.ec == b.ec && a.line == b.line &&
           (a.line.data() == b.line.data() || a.line.empty());
}

line::line_scan scan_in_steps(line::line_scanner& scanner, bytes input) {
    std::size_t visible = 0;
    std::size_t step = 1;
    for (;;) {
        visible = std::min(input.size(), visible + step++);
        const auto r = scanner.scan(input.first(visible));
        if (r.st != line::line_scan::status::need_more || visible == input.size())
            return r;
    }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0)
        return 0;
    const bool crlf = (data[0] & 0x80) == 0;
    const std::size_t max = data[0] & 0x7F;
    const auto ending = crlf ? line::line_ending::crlf : line::line_ending::lf;
    line::line_scanner whole(ending, max);
    line::line_scanner stepped(ending, max);
    bytes rest(data + 1, size - 1);
    for (;;) {
        const auto want = model(rest, crlf, max);
        const auto r = whole.scan(rest);
        HEARTBEAT_FUZZ_CHECK(same(r, want));
        HEARTBEAT_FUZZ_CHECK(same(scan_in_steps(stepped, rest), want));
        if (r.st != line::line_scan::status::complete)
            break;
        HEARTBEAT_FUZZ_CHECK(r.consumed > 0 && r.consumed <= rest.size());
        HEARTBEAT_FUZZ_CHECK(r.line.size() <= max);
        // What we read back is what we would accept to send, unless it holds a '\r'.
        const bool has_cr = r.line.find('\r') != std::string_view::npos;
        HEARTBEAT_FUZZ_CHECK(!line::validate_outgoing_line(r.line, max) == !has_cr);
        HEARTBEAT_FUZZ_CHECK(line::reply_matches(r.line, r.line, line::match_kind::exact));
        HEARTBEAT_FUZZ_CHECK(line::reply_matches(r.line, r.line.substr(0, r.line.size() / 2),
                                                 line::match_kind::prefix));
        rest = rest.subspan(r.consumed);
    }
    return 0;
}
