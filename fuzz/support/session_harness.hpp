#pragma once
// Runs one whole session over a memory_stream whose reads return the fuzz input, to its end.
//
// Input layout (shared by the session fuzzers, so one seed format serves them all):
//   byte 0   options: bit 0 the peer goes silent after its bytes instead of closing (the
//            session must then end by its own timers: handshake timeout or verdict);
//            bits 1-2 the most bytes a write accepts (all, 1, 7, 64: partial writes);
//            bit 3 the application sends a message at once; bit 4 it calls close() at once;
//            bit 5 a profile variant (the fuzzer says which); bit 6 the application does not
//            receive, so the inbox fills and the reader pauses; bit 7 lockstep: each chunk
//            after the first waits for a write of the session (a peer answering requests)
//   byte 1   separator: the rest is split at each occurrence of this byte into the chunks that
//            successive reads return (the separators themselves are dropped)
//   rest     the bytes the peer sends
//
// Invariants checked, whatever the bytes: the session ends within a wall-clock cap (its timers
// are milliseconds, the cap is seconds), async_run completes exactly once and with a reason
// (never success), every send and receive completes exactly once, before it, and the stream is
// left with no read parked.
#include "fuzz_check.hpp"
#include "memory_stream.hpp"

#include <heartbeat/core/error.hpp>
#include <heartbeat/session/byte_stream_profile.hpp>
#include <heartbeat/session/session_stream.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/io_context.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>

namespace heartbeat::fuzz {

static_assert(session_stream<memory_stream>);

struct session_input {
    bool silent_at_end = false;
    std::size_t write_limit = 0;
    bool send_at_once = false;
    bool close_at_once = false;
    bool variant = false;
    bool never_receive = false;
    stream_script script;
};

inline std::optional<session_input> split_input(const std::uint8_t* data, std::size_t size) {
    if (size < 2)
        return std::nullopt;
    session_input in;
    const std::uint8_t options = data[0];
    const std::uint8_t separator = data[1];
    constexpr std::size_t write_limits[] = {0, 1, 7, 64};
    in.silent_at_end = options & 0x01;
    in.write_limit = write_limits[(options >> 1) & 0x03];
    in.send_at_once = options & 0x08;
    in.close_at_once = options & 0x10;
    in.variant = options & 0x20;
    in.never_receive = options & 0x40;
    in.script.lockstep = options & 0x80;
    in.script.silent_at_end = in.silent_at_end;
    in.script.write_limit = in.write_limit;
    const std::span<const std::uint8_t> rest(data + 2, size - 2);
    std::size_t start = 0;
    for (std::size_t i = 0; i <= rest.size(); ++i) {
        if (i == rest.size() || rest[i] == separator) {
            if (i > start)
                in.script.chunks.push_back(rest.subspan(start, i - start));
            start = i + 1;
        }
    }
    return in;
}

// Timings in milliseconds, so a silent peer costs a few ms of fuzzing time, not seconds.
inline void use_fast_timings(session_options& c) {
    c.heartbeat.interval = std::chrono::milliseconds(2);
    c.heartbeat.pong_timeout = std::chrono::milliseconds(2);
    c.heartbeat.max_missed = 2;
    c.heartbeat.jitter = 0.0;
    c.handshake_timeout = std::chrono::milliseconds(10);
    c.close_timeout = std::chrono::milliseconds(5);
    c.tcp_keepalive = false;
    c.max_message_size = 4096;
    c.receive_buffer_limit = 8192;
}

// Runs `Session` over `stream` (a memory_stream, or a layer over one whose state is
// `stream_state`) on `ioc`, and checks the invariants above.
template <class Session>
void run_session_over(boost::asio::io_context& ioc, typename Session::stream_type stream,
                      const std::shared_ptr<memory_stream::state>& stream_state,
                      const session_input& in, const typename Session::config_type& config,
                      const std::string& app_message) {
    int run_completions = 0;
    boost::system::error_code why;
    int sends = 0, sends_completed = 0;
    int receives = 0, receives_completed = 0;
    {
        Session session(std::move(stream), config);
        session.async_run([&](boost::system::error_code ec) {
            ++run_completions;
            why = ec;
        });
        // The operations started before the loop runs were pending when the session ended (or
        // completed earlier), so they must complete before async_run. Receives started from a
        // handler may begin after the session ended (its run completion already posted): they
        // then get queued messages or the end reason, later; only their count is checked.
        bool session_alive = true;
        std::function<void(bool)> receive = [&](bool first) {
            ++receives;
            session.async_receive([&, first](boost::system::error_code ec, auto&&) {
                HEARTBEAT_FUZZ_CHECK(!first || run_completions == 0);
                ++receives_completed;
                if (!ec && session_alive)
                    receive(false);
            });
        };
        if (!in.never_receive)
            receive(true);
        if (in.send_at_once) {
            ++sends;
            session.async_send(app_message, [&](boost::system::error_code) {
                HEARTBEAT_FUZZ_CHECK(run_completions == 0);
                ++sends_completed;
            });
        }
        if (in.close_at_once)
            session.close();

        // A peer that closes ends the session by EOF whatever the timers say. One that goes
        // silent, or waits for writes that never come, leaves it to the timers: ours are
        // milliseconds, but a HELLO or SLOW_DOWN may stretch the interval (up to 4 x, the cap),
        // so after a while the application gives up with cancel(), which must end it at once.
        // The cap is generous: only a session that never ends (a lost completion, a timer never
        // armed) reaches it under any load.
        using clock = std::chrono::steady_clock;
        const bool may_idle = in.silent_at_end || in.script.lockstep;
        const auto give_up = clock::now() + std::chrono::milliseconds(300);
        const auto cap = clock::now() + std::chrono::seconds(10);
        bool cancelled = false;
        while (run_completions == 0 && clock::now() < cap) {
            ioc.run_one_for(std::chrono::milliseconds(50));
            if (may_idle && !cancelled && run_completions == 0 && clock::now() >= give_up) {
                session.cancel();
                cancelled = true;
            }
        }
        if (run_completions == 0)
            std::fprintf(stderr,
                         "session did not end within 10 s (%zu of %zu chunks read; %zu reads, "
                         "%zu writes, read parked: %d)\n",
                         stream_state->chunk, stream_state->script.chunks.size(),
                         stream_state->reads, stream_state->writes,
                         int(stream_state->parked_read.has_value()));
        HEARTBEAT_FUZZ_CHECK(run_completions == 1);
        for (int i = 0; i < 1000 && ioc.poll() != 0; ++i) {
        }
        session_alive = false;
    }
    for (int i = 0; i < 1000 && ioc.poll() != 0; ++i) {
    }
    if (std::getenv("HEARTBEAT_FUZZ_VERBOSE")) // to see where a seed leads
        std::fprintf(stderr, "session ended: %s; %zu of %zu chunks read, %zu bytes written\n",
                     why.message().c_str(), stream_state->chunk, stream_state->script.chunks.size(),
                     stream_state->bytes_written);
    HEARTBEAT_FUZZ_CHECK(run_completions == 1);
    HEARTBEAT_FUZZ_CHECK(why.failed());
    HEARTBEAT_FUZZ_CHECK(why.category() == heartbeat_category() ||
                         why == boost::asio::error::operation_aborted);
    HEARTBEAT_FUZZ_CHECK(sends_completed == sends);
    HEARTBEAT_FUZZ_CHECK(receives_completed == receives);
    HEARTBEAT_FUZZ_CHECK(!stream_state->parked_read);
}

template <class Session>
void run_session(const session_input& in, const typename Session::config_type& config,
                 const std::string& app_message) {
    boost::asio::io_context ioc;
    memory_stream stream(ioc.get_executor(), in.script);
    const auto stream_state = stream.shared_state();
    run_session_over<Session>(ioc, std::move(stream), stream_state, in, config, app_message);
}

} // namespace heartbeat::fuzz
