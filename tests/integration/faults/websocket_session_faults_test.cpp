// Fault injection at every step of a WebSocket session's life, over real TCP sockets on
// 127.0.0.1 and a real Beast upgrade: the HTTP upgrade (Beast's accept and handshake), messages
// both ways (one of 200 KiB, in fragments), control pings and pongs, and close()'s close
// handshake. For each side (the one that closes, the one that echoes), each step kind (read,
// write) and each transport error, the Nth read or write of the TCP stream under Beast fails, for
// N = 1, 2, ... until a whole conversation runs without reaching step N.
//
// A fault during the upgrade must fail that side's accept or handshake, exactly once; the test
// then closes that side's socket as our client and server do, and the other side's upgrade must
// complete (with an error) too. A fault after it is a fault of the session, checked as for the
// native session (support/fault_conversation.hpp): every operation completes exactly once, the
// faulty side ends with the documented reason, nothing is left pending.
#include "fault_conversation.hpp"
#include "test_support.hpp"

#include <heartbeat/protocol/websocket/websocket_session.hpp>
#include <heartbeat/protocol/websocket/websocket_session_impl.hpp>

#include <boost/beast/core/role.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/stream.hpp>
#include <boost/beast/websocket/teardown.hpp>

#include <gtest/gtest.h>

namespace heartbeat::test {

// Beast tears its next layer down after a close handshake, found by argument-dependent lookup:
// the fault stream hands that to the socket underneath (its reads are not faulted).
template <class NextLayer>
void teardown(boost::beast::role_type role, fault_injection_stream<NextLayer>& stream,
              boost::system::error_code& ec) {
    using boost::beast::websocket::teardown;
    teardown(role, stream.next_layer(), ec);
}

template <class NextLayer, class TeardownHandler>
void async_teardown(boost::beast::role_type role, fault_injection_stream<NextLayer>& stream,
                    TeardownHandler&& handler) {
    using boost::beast::websocket::async_teardown;
    async_teardown(role, stream.next_layer(), std::forward<TeardownHandler>(handler));
}

} // namespace heartbeat::test

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

namespace websocket = boost::beast::websocket;
using faulty_socket = fault_injection_stream<tcp::socket>;
using faulty_ws = websocket::stream<faulty_socket>;
using faulty_ws_session = websocket_session<faulty_socket>;

template class heartbeat::session<websocket_link<faulty_socket>>;

namespace {

// How Beast reports an injected error during the upgrade: as itself, or an end of stream as
// Beast's own word for it (before any byte of the request: the stream closed; in the middle of
// the HTTP message: its HTTP errors).
std::vector<boost::system::error_code> upgrade_endings(boost::system::error_code injected) {
    namespace http = boost::beast::http;
    std::vector<boost::system::error_code> r{injected};
    if (injected == asio::error::eof) {
        r.push_back(websocket::error::closed);
        r.push_back(http::error::end_of_stream);
        r.push_back(http::error::partial_message);
    }
    return r;
}

// After the upgrade: as any session (fault_endings.hpp); Beast passes transport errors through
// and the link names the peer's disappearance peer_closed, whichever operation saw it.
std::vector<boost::system::error_code> session_endings(const fault_plan& plan) {
    auto r = endings_for(plan.step, plan.error);
    namespace e = asio::error;
    if (plan.error == e::eof || plan.error == e::connection_reset || plan.error == e::broken_pipe ||
        plan.error == asio::ssl::error::stream_truncated)
        r.push_back(error::peer_closed);
    return r;
}

bool run_case(fault_side faulty, const std::shared_ptr<fault_plan>& plan) {
    asio::io_context ioc;
    // Small kernel buffers: the 200 KiB message then takes many partial writes and reads, so
    // faults also land in the middle of a frame.
    auto [server_socket, client_socket] = tcp_pair_small_buffers(ioc, 16 * 1024);
    // The closer is the WebSocket client, the echoer the server.
    faulty_ws closer_ws(faulty_socket(std::move(client_socket),
                                      faulty == fault_side::closer ? plan : fault_plan::never()));
    faulty_ws echoer_ws(faulty_socket(std::move(server_socket),
                                      faulty == fault_side::echoer ? plan : fault_plan::never()));
    const bool upgraded = run_fault_handshakes(
        ioc, faulty, *plan,
        [&](auto handler) { closer_ws.async_handshake("127.0.0.1", "/", std::move(handler)); },
        [&](auto handler) { echoer_ws.async_accept(std::move(handler)); },
        [&] {
            boost::system::error_code ignored;
            (faulty == fault_side::closer ? closer_ws : echoer_ws)
                .next_layer()
                .lowest_layer()
                .close(ignored);
        },
        upgrade_endings(plan->error));
    if (!upgraded)
        return true;

    websocket_session_config config;
    config.heartbeat.interval = 10ms;
    config.heartbeat.pong_timeout = 2000ms;
    config.heartbeat.max_missed = 3;
    config.heartbeat.jitter = 0.0;
    faulty_ws_session closer(std::move(closer_ws), config);
    faulty_ws_session echoer(std::move(echoer_ws), config);
    run_fault_conversation(ioc, closer, echoer, faulty, *plan, session_endings(*plan));
    return plan->fired;
}

class WebSocketSessionFaults : public ::testing::TestWithParam<fault_param> {};

TEST_P(WebSocketSessionFaults, EveryStepFailsOnceAndEveryOperationCompletesOnce) {
    fail_every_step(GetParam(), "websocket", run_case);
}

INSTANTIATE_TEST_SUITE_P(AllErrors, WebSocketSessionFaults, every_fault_param(), fault_param_name);

} // namespace
