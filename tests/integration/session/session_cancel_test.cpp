// cancel() (or any error) in the middle of a batched write: async_send "completes once it was fully
// written to the transport, or with the reason the session ended before that". A message whose
// bytes all went out before the write was cut was written, and must be reported so; one that was
// cut or never started must not be.
#include "test_support.hpp"

#include <gtest/gtest.h>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

TEST(SessionCancel, MessagesWrittenWholeBeforeACutWriteAreReportedSent) {
    asio::io_context ioc;
    // Small kernel buffers and a peer that does not read yet: the writer blocks inside a batch.
    auto [raw, sock] = tcp_pair_small_buffers(ioc, 16 * 1024);
    tcp_session session(std::move(sock), fast_config(1000ms, 5000ms, 3));
    bool ended = false;
    boost::system::error_code reason;
    session.async_run([&](boost::system::error_code ec) { reason = ec, ended = true; });
    asio::write(raw, asio::buffer(hello_bytes()));
    ASSERT_TRUE(run_until(
        ioc, [&] { return session.stats().state == peer_state::alive; }, 5s));

    // 4000-byte messages: a batch (up to chunk_size = 64 KiB) is larger than the kernel takes in
    // one go, so the blocked write is cut somewhere inside a batch, past some whole messages.
    constexpr std::size_t kCount = 100, kSize = 4000;
    std::vector<boost::system::error_code> results(kCount, asio::error::would_block);
    for (std::size_t i = 0; i < kCount; ++i)
        session.async_send(std::string(kSize, static_cast<char>('A' + i % 26)),
                           [&results, i](boost::system::error_code ec) { results[i] = ec; });
    // Let the writer fill the kernel's buffers and block.
    run_until(
        ioc, [] { return false; }, 200ms);
    const auto stats = session.stats();
    ASSERT_GT(stats.queued_send_bytes, 0u) << "everything fit in the kernel; nothing was tested";
    session.cancel();
    ASSERT_TRUE(run_until(
        ioc, [&] { return ended; }, 5s));
    run_until(
        ioc,
        [&] {
            return std::none_of(results.begin(), results.end(),
                                [](auto ec) { return ec == asio::error::would_block; });
        },
        5s);
    EXPECT_EQ(reason, asio::error::operation_aborted);

    // Now read everything that reached the peer (the session closed its socket: EOF ends it).
    timeval tv{5, 0};
    ::setsockopt(raw.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    frame_decoder decoder(1u << 20);
    std::vector<std::uint8_t> buf(64 * 1024);
    std::size_t whole_messages = 0;
    boost::system::error_code ec;
    for (int reads = 0; !ec && reads < 10000; ++reads) {
        const std::size_t n = raw.read_some(asio::buffer(buf), ec);
        decoder.feed(std::span<const std::uint8_t>(buf.data(), n));
        for (auto r = decoder.next(); r.st == parse_result::status::frame; r = decoder.next())
            if (auto* d = std::get_if<data_frame>(&r.value); d && d->fin)
                ++whole_messages;
    }
    EXPECT_EQ(ec, asio::error::eof) << ec.message();

    std::size_t reported_sent = 0;
    bool failure_seen = false, sent_after_failure = false;
    for (const auto& r : results) {
        if (!r) {
            ++reported_sent;
            sent_after_failure = sent_after_failure || failure_seen;
        } else {
            failure_seen = true;
            EXPECT_EQ(r, asio::error::operation_aborted) << r.message();
        }
    }
    std::printf("[cancel] peer got %zu whole messages, %zu reported sent, %zu queued bytes\n",
                whole_messages, reported_sent, stats.queued_send_bytes);
    EXPECT_FALSE(sent_after_failure);
    EXPECT_EQ(reported_sent, whole_messages)
        << "messages the peer received whole were reported as not sent (or the reverse)";
}
