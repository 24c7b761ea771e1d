#pragma once
// Helpers for the hostile-peer tests (tests/integration/hostile): a raw socket that plays a
// misbehaving peer or server (reads and discards, trickles bytes, writes a script and holds the
// connection), and the process's own resources (open descriptors, resident memory, its peak), so
// a test can show that a hostile input left nothing behind.
//
// Every loop here is bounded in count; every wait is bounded by the test's run_until.
#include "test_support.hpp"

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace heartbeat::test {

// ---- the process's resources -------------------------------------------------------------

// Under AddressSanitizer freed memory sits in its quarantine (256 MiB by default), so resident
// memory says nothing about leaks there: the RSS bounds hold in plain builds only (ASan finds
// leaks and oversize allocations itself).
#if defined(__SANITIZE_ADDRESS__)
inline constexpr bool rss_is_meaningful = false;
#else
inline constexpr bool rss_is_meaningful = true;
#endif

// Entries of /proc/self/fd (each one an open descriptor of this process).
inline std::size_t open_descriptors() {
    std::size_t n = 0;
    for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator("/proc/self/fd"))
        ++n;
    return n;
}

// A "Vm...:" field of /proc/self/status, in KiB (0 when absent).
inline std::size_t status_kib(const std::string& field) {
    std::ifstream in("/proc/self/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind(field + ":", 0) == 0)
            return std::stoull(line.substr(field.size() + 1));
    return 0;
}

inline std::size_t rss_kib() {
    return status_kib("VmRSS");
}

// Resets the peak resident size (VmHWM) to the current one (Linux >= 4.0), so a later
// peak_rss_kib() shows the largest footprint since this call: a 4 GiB buffer zero-filled even
// briefly would show, whatever happened before the test.
inline bool reset_peak_rss() {
    std::ofstream out("/proc/self/clear_refs");
    out << "5";
    out.flush();
    return static_cast<bool>(out);
}

inline std::size_t peak_rss_kib() {
    return status_kib("VmHWM");
}

// ---- a raw, hand-driven peer ---------------------------------------------------------------

// What a raw peer saw; owned by the test so coroutines find it alive until they end.
struct raw_side {
    explicit raw_side(tcp::socket s) : socket(std::move(s)) {}
    tcp::socket socket;
    std::size_t bytes_read = 0;
    std::string head; // the first bytes read (up to 4 KiB), e.g. to find a request in them
    bool eof = false; // the other side hung up (or reset)
    time_point eof_at{};
    bool writer_done = true;
    std::size_t bytes_trickled = 0;
};

// Reads and discards everything until the other side hangs up.
inline void read_and_discard(raw_side& r) {
    asio::co_spawn(
        r.socket.get_executor(),
        [&r]() -> asio::awaitable<void> {
            std::vector<char> buf(16 * 1024);
            for (;;) {
                auto [ec, n] = co_await r.socket.async_read_some(
                    asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
                r.bytes_read += n;
                if (r.head.size() < 4096)
                    r.head.append(buf.data(), std::min(n, 4096 - r.head.size()));
                if (ec)
                    break;
            }
            r.eof = true;
            r.eof_at = clock::now();
        },
        asio::detached);
}

// Writes `bytes` one at a time, one every `period`, stopping early when the other side hung up
// or a write fails: a peer that keeps a frame "in progress" forever.
inline void trickle(raw_side& r, std::vector<std::uint8_t> bytes, duration period) {
    r.writer_done = false;
    asio::co_spawn(
        r.socket.get_executor(),
        [&r, bytes = std::move(bytes), period]() -> asio::awaitable<void> {
            asio::steady_timer every(co_await asio::this_coro::executor);
            for (std::size_t i = 0; i < bytes.size() && !r.eof; ++i) {
                auto [ec, n] = co_await asio::async_write(r.socket, asio::buffer(&bytes[i], 1),
                                                          asio::as_tuple(asio::use_awaitable));
                if (ec)
                    break;
                ++r.bytes_trickled;
                every.expires_after(period);
                co_await every.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            r.writer_done = true;
        },
        asio::detached);
}

// Writes `frame` every `period` (at most `count` times) and never reads: a peer that talks but
// does not listen.
inline void repeat(raw_side& r, std::vector<std::uint8_t> frame, duration period,
                   std::size_t count) {
    r.writer_done = false;
    asio::co_spawn(
        r.socket.get_executor(),
        [&r, frame = std::move(frame), period, count]() -> asio::awaitable<void> {
            asio::steady_timer every(co_await asio::this_coro::executor);
            for (std::size_t i = 0; i < count && !r.eof; ++i) {
                auto [ec, n] = co_await asio::async_write(r.socket, asio::buffer(frame),
                                                          asio::as_tuple(asio::use_awaitable));
                if (ec)
                    break;
                every.expires_after(period);
                co_await every.async_wait(asio::as_tuple(asio::use_awaitable));
            }
            r.writer_done = true;
        },
        asio::detached);
}

// A native frame header (type, flags, 4-byte big-endian length) with no payload behind it.
inline std::vector<std::uint8_t> native_header(frame_type type, std::uint8_t flags,
                                               std::uint32_t length) {
    return {static_cast<std::uint8_t>(type),         flags,
            static_cast<std::uint8_t>(length >> 24), static_cast<std::uint8_t>(length >> 16),
            static_cast<std::uint8_t>(length >> 8),  static_cast<std::uint8_t>(length)};
}

inline std::vector<std::uint8_t> bytes_of(const std::string& s) {
    return {s.begin(), s.end()};
}

inline std::vector<std::uint8_t> concat(std::vector<std::uint8_t> a,
                                        const std::vector<std::uint8_t>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

} // namespace heartbeat::test
