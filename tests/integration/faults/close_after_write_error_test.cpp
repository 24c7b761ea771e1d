// Regression: a write that fails ends the session with that write's error even when the
// application calls close() right after, before the reader has noticed. The writer used to keep
// its error to itself until the reader came round, so a close() in that window set the stop
// reason first and the run reported session_closed: a transport failure passed for a deliberate
// close (the supervisor would not count it as the endpoint failing). Deterministic: the close()
// is posted from the moment the failed write completes, so it runs right after the writer saw
// the error and before the reader's cancelled read completes.
#include "fault_endings.hpp"
#include "faulty_native_session.hpp"
#include "session_party.hpp"

#include <gtest/gtest.h>

using namespace heartbeat;
using namespace heartbeat::test;
using namespace std::chrono_literals;

TEST(CloseAfterWriteError, TheWriteErrorIsTheEndingNotSessionClosed) {
    for (const auto& injected : transport_errors()) {
        for (std::size_t n = 1; n <= 2; ++n) {
            SCOPED_TRACE(::testing::Message()
                         << "write #" << n << " fails with " << error_name(injected));
            asio::io_context ioc;
            auto [server_socket, client_socket] = tcp_pair(ioc);
            const auto config = fast_config(1000ms, 2000ms, 3);
            const auto plan = fault_plan::make(fault_step::write, n, injected);
            faulty_session client(faulty_socket(std::move(client_socket), plan), config);
            faulty_session server(faulty_socket(std::move(server_socket), fault_plan::never()),
                                  config);
            plan->on_delivered = [&] { asio::post(ioc, [&] { client.close(); }); };
            session_party<faulty_session> a(client, "client"), b(server, "server");
            a.run();
            b.run();
            a.send("one"); // a second write once the HELLO is out
            ioc.run_for(30s);
            ASSERT_TRUE(ioc.stopped()) << "work still pending";
            ASSERT_TRUE(plan->delivered) << "the session made fewer than " << n << " writes";
            EXPECT_TRUE(one_of(a.reason(), endings_for(fault_step::write, injected)))
                << "ended with " << error_name(a.reason());
            EXPECT_EQ(a.ledger().not_completed_once(), "");
            EXPECT_EQ(b.ledger().not_completed_once(), "");
            EXPECT_TRUE(has_stable_name(b.reason())) << b.reason().message();
        }
    }
}
