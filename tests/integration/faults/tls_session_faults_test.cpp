// Fault injection at every step of a native session over TLS, over real TCP sockets on 127.0.0.1
// and a real OpenSSL handshake with a verified certificate: the TLS handshake, the HELLO
// exchange, messages both ways (one of 200 KiB), heartbeats and close(). The faults are in the
// TCP stream under TLS, so a step is one read or write of TLS records. For each side (the closer
// is the TLS client, the echoer the server), each step kind (read, write) and each transport
// error, the Nth step fails, for N = 1, 2, ... until a whole conversation runs without reaching
// step N.
//
// A fault during the TLS handshake must fail that side's handshake exactly once; the test then
// drops that side's connection as our client does, and the other side's handshake must complete
// (with an error) too. A fault after it is checked as for the plain session
// (support/fault_conversation.hpp).
#include "fault_conversation.hpp"
#include "test_support.hpp"

#include <heartbeat/protocol/native/native_session.hpp>
#include <heartbeat/session/stream_session_impl.hpp>

#include <boost/asio/ssl.hpp>

#include <gtest/gtest.h>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

using faulty_socket = fault_injection_stream<tcp::socket>;
using faulty_tls = asio::ssl::stream<faulty_socket>;
using faulty_tls_session = basic_session<faulty_tls>;

template class heartbeat::session<stream_link<native_profile, faulty_tls>>;

namespace {

// One certificate and the two contexts for every case: key generation is the slow part.
struct tls_contexts {
    asio::ssl::context server{asio::ssl::context::tls_server};
    asio::ssl::context client{asio::ssl::context::tls_client};
    tls_contexts() {
        const pem_pair pem = make_self_signed_certificate("localhost");
        server.use_certificate(asio::buffer(pem.certificate), asio::ssl::context::pem);
        server.use_private_key(asio::buffer(pem.private_key), asio::ssl::context::pem);
        client.add_certificate_authority(asio::buffer(pem.certificate));
        client.set_verify_mode(asio::ssl::verify_peer);
    }
};

tls_contexts& contexts() {
    static tls_contexts c;
    return c;
}

// How OpenSSL reports an injected error during the handshake: as itself, or an end of stream as
// a truncated stream.
std::vector<boost::system::error_code> handshake_endings(boost::system::error_code injected) {
    std::vector<boost::system::error_code> r{injected};
    if (injected == asio::error::eof)
        r.push_back(asio::ssl::error::stream_truncated);
    return r;
}

bool run_case(fault_side faulty, const std::shared_ptr<fault_plan>& plan) {
    asio::io_context ioc;
    auto [server_socket, client_socket] = tcp_pair_small_buffers(ioc, 16 * 1024);
    faulty_tls closer_tls(faulty_socket(std::move(client_socket),
                                        faulty == fault_side::closer ? plan : fault_plan::never()),
                          contexts().client);
    faulty_tls echoer_tls(faulty_socket(std::move(server_socket),
                                        faulty == fault_side::echoer ? plan : fault_plan::never()),
                          contexts().server);
    closer_tls.set_verify_callback(asio::ssl::host_name_verification("localhost"));
    const bool handshaken = run_fault_handshakes(
        ioc, faulty, *plan,
        [&](auto handler) {
            closer_tls.async_handshake(asio::ssl::stream_base::client, std::move(handler));
        },
        [&](auto handler) {
            echoer_tls.async_handshake(asio::ssl::stream_base::server, std::move(handler));
        },
        [&] {
            boost::system::error_code ignored;
            (faulty == fault_side::closer ? closer_tls : echoer_tls).lowest_layer().close(ignored);
        },
        handshake_endings(plan->error));
    if (!handshaken)
        return true;

    const auto config = fast_config(10ms, 2000ms, 3);
    faulty_tls_session closer(std::move(closer_tls), config);
    faulty_tls_session echoer(std::move(echoer_tls), config);
    run_fault_conversation(ioc, closer, echoer, faulty, *plan,
                           endings_for(plan->step, plan->error));
    return plan->fired;
}

class TlsSessionFaults : public ::testing::TestWithParam<fault_param> {};

TEST_P(TlsSessionFaults, EveryStepFailsOnceAndEveryOperationCompletesOnce) {
    fail_every_step(GetParam(), "tls", run_case);
}

INSTANTIATE_TEST_SUITE_P(AllErrors, TlsSessionFaults, every_fault_param(), fault_param_name);

} // namespace
