// The line scanner against a plain model of its specification, on random streams fed in random
// chunks: the incremental search must never change which lines come out, or when an over-long
// line is refused.
#include <heartbeat/protocol/line/line_scanner.hpp>

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <string_view>
#include <vector>

namespace heartbeat::line {
namespace {

struct outcome {
    std::vector<std::string> lines;
    bool too_long = false;
};

// Whole-stream model: split at '\n', strip one '\r' before it in crlf mode; an unterminated
// tail is already too long when no terminator could still save it.
outcome model(std::string_view stream, line_ending ending, std::size_t max) {
    const bool crlf = ending == line_ending::crlf;
    auto content_of = [&](std::string_view raw) {
        return crlf && !raw.empty() && raw.back() == '\r' ? raw.substr(0, raw.size() - 1) : raw;
    };
    outcome out;
    while (!stream.empty()) {
        const auto newline = stream.find('\n');
        const auto raw = stream.substr(0, newline);
        if (content_of(raw).size() > max) {
            out.too_long = true;
            return out;
        }
        if (newline == std::string_view::npos) {
            return out;
        }
        out.lines.emplace_back(content_of(raw));
        stream.remove_prefix(newline + 1);
    }
    return out;
}

outcome scan_in_chunks(std::string_view stream, line_ending ending, std::size_t max,
                       std::mt19937& rng) {
    line_scanner scanner{ending, max};
    outcome out;
    std::string buffer;
    std::size_t received = 0;
    std::uniform_int_distribution<std::size_t> chunk_size{1, 7};
    while (received < stream.size()) {
        const std::size_t n = std::min(chunk_size(rng), stream.size() - received);
        buffer = buffer + std::string(stream.substr(received, n));
        received += n;
        for (;;) {
            const auto scan =
                scanner.scan({reinterpret_cast<const std::uint8_t*>(buffer.data()), buffer.size()});
            if (scan.st == line_scan::status::error) {
                out.too_long = true;
                return out;
            }
            if (scan.st == line_scan::status::need_more) {
                // Refused as early as the model can tell: not one chunk later.
                EXPECT_FALSE(model(stream.substr(0, received), ending, max).too_long);
                break;
            }
            out.lines.emplace_back(scan.line);
            buffer.erase(0, scan.consumed);
        }
    }
    return out;
}

TEST(LineScannerModel, RandomStreamsInRandomChunksMatchTheModel) {
    std::mt19937 rng{20240601};
    const char alphabet[] = {'a', 'b', '\r', '\n'};
    std::uniform_int_distribution<int> pick{0, 3};
    std::uniform_int_distribution<std::size_t> length{0, 40};
    std::uniform_int_distribution<std::size_t> max_length{0, 6};
    int refused = 0;
    for (int round = 0; round < 20'000; ++round) {
        std::string stream(length(rng), ' ');
        for (auto& c : stream) {
            c = alphabet[pick(rng)];
        }
        const auto ending = round % 2 == 0 ? line_ending::crlf : line_ending::lf;
        const std::size_t max = max_length(rng);
        const auto expected = model(stream, ending, max);
        const auto actual = scan_in_chunks(stream, ending, max, rng);
        ASSERT_EQ(actual.lines, expected.lines) << testing::PrintToString(stream) << " max " << max;
        ASSERT_EQ(actual.too_long, expected.too_long)
            << testing::PrintToString(stream) << " max " << max;
        refused += expected.too_long ? 1 : 0;
    }
    // Both outcomes were exercised.
    EXPECT_GT(refused, 1000);
    EXPECT_LT(refused, 19'000);
}

} // namespace
} // namespace heartbeat::line
