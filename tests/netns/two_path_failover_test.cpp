// The keepalive seed's own case: one server host reachable over two paths (two veth pairs,
// 10.213.1.0/24 and 10.213.2.0/24), `heartbeat watch A B --failback` streaming. Path A
// blackholed: a verdict within the silence budget and failover to B; path A restored: failback
// to A. Every sequence number sent reaches the server at least once.
#include "event_json.hpp"
#include "fault_figures.hpp"
#include "fault_rig.hpp"
#include "netns_fixture.hpp"

#include <stdexcept>

namespace heartbeat::netns {
namespace {

using std::chrono::seconds;

constexpr unsigned port = 7214;

std::size_t expect(std::optional<std::size_t> index, const std::string& what) {
    if (!index)
        throw std::runtime_error("never came: " + what);
    return *index;
}

std::int64_t ms_between(steady::time_point from, steady::time_point to) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

class TwoPathFailover : public NetnsTest {};

TEST_F(TwoPathFailover, PathABlackholedFailsOverToPathBAndFailsBackWhenRestored) {
    const heartbeat_timing timing;
    netns_lab lab;
    const std::string client_ns = lab.add_namespace("client");
    const std::string server_ns = lab.add_namespace("server");
    const auto path_a = lab.link(client_ns, "10.213.1.1/24", server_ns, "10.213.1.2/24");
    lab.link(client_ns, "10.213.2.1/24", server_ns, "10.213.2.2/24");
    const std::string endpoint_a = "10.213.1.2:" + std::to_string(port);
    const std::string endpoint_b = "10.213.2.2:" + std::to_string(port);
    auto blackhole_a = [&](const std::string& op) {
        lab.run_in(server_ns, "iptables " + op + " INPUT -i " + path_a.second + " -j DROP");
        lab.run_in(server_ns, "iptables " + op + " OUTPUT -o " + path_a.second + " -j DROP");
    };

    sink_process sink(server_ns, port, timing);
    watch_process client(client_ns, {endpoint_a, endpoint_b}, timing,
                         {"--send-rate", "50", "--failback", "--min-dwell", "1s",
                          "--backoff-initial", "100ms", "--backoff-max", "1s"});
    expect(client.wait_event("connected", seconds(20), 0, endpoint_a), "connected on path A");
    ASSERT_TRUE(sink.wait_taken(25, seconds(20))) << "message 25 never reached the server";

    // Path A goes dark.
    const std::size_t before_fault = client.process().line_count();
    const auto fault_at = steady::now();
    blackhole_a("-I");
    const std::size_t dead =
        expect(client.wait_event("dead", seconds(30), before_fault, endpoint_a), "dead on A");
    const std::size_t failover =
        expect(client.wait_event("failover", seconds(30), dead), "the failover event");
    const std::size_t on_b = expect(client.wait_event("connected", seconds(30), dead, endpoint_b),
                                    "connected on path B");
    EXPECT_EQ(json_field(client.line(failover), "to").value_or(""), endpoint_b);

    fault_figures over;
    over.fault = "two paths: A blackholed";
    over.ending = "dead";
    over.silent_ms = json_int(client.line(dead), "silent_ms");
    over.budget_ms = timing.budget_ms();
    over.fault_to_ending_ms = ms_between(fault_at, client.arrived(dead));
    over.recovery = "failover to B";
    over.recovery_ms = client.t_ms(on_b) - client.t_ms(dead);
    ASSERT_TRUE(client.wait_caught_up(on_b, seconds(30))) << "the backlog never got through on B";

    // Path A comes back: the supervisor probes it and moves back after --min-dwell.
    const auto restored_at = steady::now();
    blackhole_a("-D");
    const std::size_t failback =
        expect(client.wait_event("failback", seconds(40), on_b), "the failback event");
    const std::size_t back_on_a =
        expect(client.wait_event("connected", seconds(30), failback, endpoint_a),
               "connected on path A again");
    EXPECT_EQ(json_field(client.line(failback), "to").value_or(""), endpoint_a);
    fault_figures back;
    back.fault = "two paths: A restored";
    back.ending = "—";
    back.budget_ms = timing.budget_ms();
    back.recovery = "failback to A";
    back.recovery_ms = ms_between(restored_at, client.arrived(back_on_a));
    ASSERT_TRUE(client.wait_caught_up(back_on_a, seconds(30))) << "no progress back on path A";

    const std::string final_delivery = client.stop(seconds(20));
    sink.wait_taken(static_cast<std::uint64_t>(json_int(final_delivery, "sent").value_or(0)),
                    seconds(10));
    over.delivery = back.delivery = count_delivery(final_delivery, {&sink});
    record_figures(over);
    record_figures(back);

    ASSERT_TRUE(over.silent_ms.has_value());
    EXPECT_GE(*over.silent_ms, timing.budget_ms()) << "a verdict before the silence budget";
    EXPECT_LE(*over.silent_ms, 2 * timing.budget_ms());
    EXPECT_LE(over.fault_to_ending_ms, 4 * timing.budget_ms());
    EXPECT_LE(over.recovery_ms, 5000) << "path B answers at once: the failover should be quick";
    EXPECT_GT(over.delivery.sent, 100);
    EXPECT_EQ(over.delivery.lost, 0) << "sequence numbers sent but never taken";
}

} // namespace
} // namespace heartbeat::netns
