// resp_scanner fed in pieces: every split point, every chunk size, a buffer that moves between
// calls, and big replies arriving a byte at a time.
#include <heartbeat/protocol/resp/resp_scanner.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace heartbeat::resp {
namespace {

using status = scan_result::status;

std::span<const std::uint8_t> bytes_of(std::string_view text) {
    return {reinterpret_cast<const std::uint8_t*>(text.data()), text.size()};
}

struct typed_reply {
    std::string bytes;
    reply_kind kind;
};

// One reply of every type, nested aggregates and attributes included.
const std::vector<typed_reply>& mixed_replies() {
    static const std::vector<typed_reply> replies = {
        {"+OK\r\n", reply_kind::simple_string},
        {"-ERR x\r\n", reply_kind::simple_error},
        {":-12\r\n", reply_kind::integer},
        {"$5\r\na\r\nbc\r\n", reply_kind::bulk_string},
        {"!3\r\nbad\r\n", reply_kind::bulk_error},
        {"=7\r\ntxt:abc\r\n", reply_kind::verbatim_string},
        {"_\r\n", reply_kind::null},
        {"$-1\r\n", reply_kind::null},
        {"*-1\r\n", reply_kind::null},
        {"#t\r\n", reply_kind::boolean},
        {",-1.5e3\r\n", reply_kind::double_number},
        {"(123\r\n", reply_kind::big_number},
        {"*2\r\n%1\r\n+k\r\n~2\r\n:1\r\n:2\r\n*0\r\n", reply_kind::array},
        {"|1\r\n+ttl\r\n:9\r\n$1\r\nv\r\n", reply_kind::bulk_string},
        {"*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n|1\r\n+c\r\n$1\r\n\n\r\n=5\r\nmkd:\n\r\n",
         reply_kind::array},
        {">2\r\n+pubsub\r\n$0\r\n\r\n", reply_kind::push},
        {"%1\r\n*1\r\n~1\r\n%1\r\n>0\r\n|0\r\n_\r\n#f\r\n", reply_kind::map},
    };
    return replies;
}

std::string concatenated(const std::vector<typed_reply>& replies) {
    std::string stream;
    for (const auto& reply : replies) {
        stream += reply.bytes;
    }
    return stream;
}

// A connection's reader: appends each chunk to its buffer, scans, and erases every complete
// reply from the front, so the bytes move under the scanner between calls.
std::vector<typed_reply> read_in_chunks(std::string_view stream,
                                        const std::vector<std::size_t>& chunk_sizes) {
    std::vector<typed_reply> replies;
    resp_scanner scanner;
    std::string buffer;
    std::size_t offset = 0;
    for (std::size_t i = 0; offset < stream.size(); ++i) {
        const std::size_t chunk = chunk_sizes[i % chunk_sizes.size()];
        buffer.append(stream.substr(offset, chunk));
        offset += chunk;
        for (;;) {
            const scan_result r = scanner.scan(bytes_of(buffer));
            if (r.st != status::complete) {
                EXPECT_EQ(r.st, status::need_more) << r.ec.message();
                break;
            }
            replies.push_back({buffer.substr(0, r.consumed), r.kind});
            buffer.erase(0, r.consumed);
        }
    }
    EXPECT_TRUE(buffer.empty()) << "left over: " << buffer.size() << " bytes";
    return replies;
}

void expect_same_replies(const std::vector<typed_reply>& actual,
                         const std::vector<typed_reply>& expected) {
    ASSERT_EQ(actual.size(), expected.size());
    for (std::size_t i = 0; i < expected.size(); ++i) {
        EXPECT_EQ(actual[i].bytes, expected[i].bytes) << "reply " << i;
        EXPECT_EQ(actual[i].kind, expected[i].kind) << "reply " << i;
    }
}

TEST(RespScannerIncremental, NeedMoreUntilTheExactBoundaryOfEveryReply) {
    const std::string stream = concatenated(mixed_replies());
    std::size_t start = 0;
    for (const auto& [bytes, kind] : mixed_replies()) {
        // One scanner resumed with one more byte per call...
        resp_scanner resumed;
        for (std::size_t length = 0; length < bytes.size(); ++length) {
            ASSERT_EQ(resumed.scan(bytes_of(std::string_view(stream).substr(start, length))).st,
                      status::need_more)
                << bytes << " prefix " << length;
        }
        // ...and a fresh one for each prefix.
        for (std::size_t length = 0; length < bytes.size(); ++length) {
            resp_scanner fresh;
            ASSERT_EQ(fresh.scan(bytes_of(std::string_view(stream).substr(start, length))).st,
                      status::need_more)
                << bytes << " prefix " << length;
        }
        // Complete at the boundary, and the same with all the following replies there too.
        const scan_result at_boundary =
            resumed.scan(bytes_of(std::string_view(stream).substr(start, bytes.size())));
        ASSERT_EQ(at_boundary.st, status::complete) << bytes << at_boundary.ec.message();
        EXPECT_EQ(at_boundary.consumed, bytes.size());
        EXPECT_EQ(at_boundary.kind, kind);
        resp_scanner fresh;
        const scan_result with_rest = fresh.scan(bytes_of(std::string_view(stream).substr(start)));
        ASSERT_EQ(with_rest.st, status::complete);
        EXPECT_EQ(with_rest.consumed, bytes.size());
        start += bytes.size();
    }
    EXPECT_EQ(start, stream.size());
}

TEST(RespScannerIncremental, EveryTwoChunkSplitOfAPipelinedStream) {
    const std::string stream = concatenated(mixed_replies());
    for (std::size_t split = 0; split <= stream.size(); ++split) {
        SCOPED_TRACE("split at " + std::to_string(split));
        expect_same_replies(read_in_chunks(stream, {split, stream.size()}), mixed_replies());
    }
}

TEST(RespScannerIncremental, ChunkSizes) {
    const std::string stream = concatenated(mixed_replies());
    const std::vector<std::vector<std::size_t>> patterns = {{1}, {2},  {3},     {5},
                                                            {7}, {64}, {1, 13}, {4096}};
    for (const auto& chunks : patterns) {
        SCOPED_TRACE("first chunk " + std::to_string(chunks[0]));
        expect_same_replies(read_in_chunks(stream, chunks), mixed_replies());
    }
}

// The scanner resumes where it stopped: bytes of elements it already walked are never read
// again. Each call gets a fresh copy of the input (the buffer moved) in which everything up to
// the last LF before the newest byte is overwritten with '\n', which is malformed wherever a
// rescan would read it (as a type byte or inside a line).
TEST(RespScannerIncremental, ByteAtATimeNeverRereadsWalkedElements) {
    // Three rounds of every type, then 63 arrays nested in the outer one: 64 levels in all.
    std::string reply = "*" + std::to_string(3 * mixed_replies().size() + 1) + "\r\n";
    for (int round = 0; round < 3; ++round) {
        reply += concatenated(mixed_replies());
    }
    for (int depth = 1; depth < 64; ++depth) {
        reply += "*1\r\n";
    }
    reply += ":1\r\n";
    resp_scanner scanner;
    std::size_t calls = 0;
    for (std::size_t length = 0; length <= reply.size(); ++length) {
        std::string moved = reply.substr(0, length);
        if (length >= 2) {
            const std::size_t last_lf = moved.rfind('\n', length - 2);
            if (last_lf != std::string::npos) {
                std::fill(moved.begin(), moved.begin() + static_cast<long>(last_lf), '\n');
            }
        }
        const scan_result r = scanner.scan(bytes_of(moved));
        ++calls;
        if (length < reply.size()) {
            ASSERT_EQ(r.st, status::need_more) << "prefix " << length << " " << r.ec.message();
        } else {
            ASSERT_EQ(r.st, status::complete) << r.ec.message();
            EXPECT_EQ(r.consumed, reply.size());
            EXPECT_EQ(r.kind, reply_kind::array);
            // The poison is real: a scanner starting over cannot read these bytes.
            resp_scanner starting_over;
            EXPECT_EQ(starting_over.scan(bytes_of(moved)).st, status::error);
        }
    }
    EXPECT_EQ(calls, reply.size() + 1);
}

// A quadratic scanner (rescanning from the start on every call) would need ~10^11 steps for
// these and never finish in the test's time; a resuming one does a few million.
std::string big_array(std::size_t elements) {
    std::string reply = "*" + std::to_string(elements) + "\r\n";
    for (std::size_t i = 0; i < elements; ++i) {
        reply += (i % 2 == 0) ? ":" + std::to_string(i) + "\r\n" : "$3\r\nabc\r\n";
    }
    return reply;
}

std::size_t calls_to_complete(const std::string& reply, std::size_t step) {
    resp_scanner scanner;
    std::size_t calls = 0;
    for (std::size_t length = 0;; length = std::min(length + step, reply.size())) {
        const scan_result r = scanner.scan(bytes_of(std::string_view(reply).substr(0, length)));
        ++calls;
        if (r.st == status::complete) {
            EXPECT_EQ(r.consumed, reply.size());
            EXPECT_EQ(length, reply.size()) << "complete before the last byte";
            return calls;
        }
        EXPECT_EQ(r.st, status::need_more) << r.ec.message();
        if (r.st != status::need_more || length == reply.size()) {
            return 0;
        }
    }
}

TEST(RespScannerIncremental, HundredThousandElementsAByteAtATime) {
    const std::string reply = big_array(100'000);
    EXPECT_EQ(calls_to_complete(reply, 1), reply.size() + 1);
}

TEST(RespScannerIncremental, MillionElementsInThousandByteSteps) {
    const std::string reply = big_array(1'000'000);
    EXPECT_EQ(calls_to_complete(reply, 1000), (reply.size() + 999) / 1000 + 1);
}

// Resuming includes the middle of a line and of a bulk payload.
TEST(RespScannerIncremental, LongLineAndLongPayloadAByteAtATime) {
    const std::string line = "+" + std::string(300'000, 'x') + "\r\n";
    EXPECT_EQ(calls_to_complete(line, 1), line.size() + 1);
    const std::string bulk = "$300000\r\n" + std::string(300'000, '\r') + "\r\n";
    EXPECT_EQ(calls_to_complete(bulk, 1), bulk.size() + 1);
}

} // namespace
} // namespace heartbeat::resp
