// A whole WebSocket session (server role, after a real Beast upgrade) fed arbitrary client
// bytes over an in-memory stream: masked data frames delivered, pings answered by Beast, pongs
// matched by payload or taken as traffic, close frames, and whatever else Beast refuses. The
// upgrade request is the harness's own first chunk, so every input reaches the session. Variant
// bit: the application-level heartbeat (JSON text pings and pongs) instead of control pings.
// Input layout and invariants in support/session_harness.hpp.
#include "support/session_harness.hpp"

#include <heartbeat/protocol/websocket/websocket_session.hpp>
#include <heartbeat/protocol/websocket/websocket_session_impl.hpp>

#include <boost/asio/append.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/role.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <chrono>
#include <cstdint>
#include <string_view>

namespace heartbeat::fuzz {

// Beast closes its next layer when one of its timeouts fires, and tears it down after a close
// handshake: both found by argument-dependent lookup.
inline void beast_close_socket(memory_stream& stream) {
    boost::system::error_code ignored;
    stream.close(ignored);
}

inline void teardown(boost::beast::role_type, memory_stream& stream,
                     boost::system::error_code& ec) {
    stream.close(ec);
}

template <class TeardownHandler>
void async_teardown(boost::beast::role_type, memory_stream& stream, TeardownHandler&& handler) {
    boost::system::error_code ec;
    stream.close(ec);
    boost::asio::post(stream.get_executor(),
                      boost::asio::append(std::forward<TeardownHandler>(handler), ec));
}

} // namespace heartbeat::fuzz

namespace hb = heartbeat;
using fuzzed_stream = boost::beast::websocket::stream<hb::fuzz::memory_stream>;
using fuzzed_session = hb::websocket_session<hb::fuzz::memory_stream>;

namespace {

constexpr std::string_view upgrade_request = "GET / HTTP/1.1\r\n"
                                             "Host: fuzz\r\n"
                                             "Upgrade: websocket\r\n"
                                             "Connection: Upgrade\r\n"
                                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                                             "Sec-WebSocket-Version: 13\r\n\r\n";

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto in = hb::fuzz::split_input(data, size);
    if (!in)
        return 0;
    in->script.chunks.insert(
        in->script.chunks.begin(),
        std::span(reinterpret_cast<const std::uint8_t*>(upgrade_request.data()),
                  upgrade_request.size()));

    hb::websocket_session_config config;
    config.heartbeat.interval = std::chrono::milliseconds(2);
    config.heartbeat.pong_timeout = std::chrono::milliseconds(2);
    config.heartbeat.max_missed = 2;
    config.heartbeat.jitter = 0.0;
    config.close_timeout = std::chrono::milliseconds(5);
    config.tcp_keepalive = false;
    config.max_message_size = 4096;
    config.receive_buffer_limit = 8192;
    config.fragment_size = 16;
    config.app_heartbeat.enabled = in->variant;

    boost::asio::io_context ioc;
    hb::fuzz::memory_stream raw(ioc.get_executor(), in->script);
    const auto state = raw.shared_state();
    fuzzed_stream ws(std::move(raw));
    bool accepted = false;
    boost::system::error_code accept_error;
    ws.async_accept([&](boost::system::error_code ec) {
        accepted = true;
        accept_error = ec;
    });
    // The request is well-formed: only a write limit slows the answer down.
    const auto cap = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!accepted && std::chrono::steady_clock::now() < cap)
        ioc.run_one_for(std::chrono::milliseconds(50));
    HEARTBEAT_FUZZ_CHECK(accepted && !accept_error);
    ioc.restart(); // it ran out of work when the accept completed
    hb::fuzz::run_session_over<fuzzed_session>(ioc, std::move(ws), state, *in, config,
                                               "HELLO there");
    return 0;
}
