// A NAT between client and server: a router namespace (10.213.3.0/24 towards the client,
// 10.213.4.0/24 towards the server) that DNATs the client's connections to the server and
// MASQUERADEs them, drops packets conntrack calls INVALID and does not pick up flows it has
// no entry for (nf_conntrack_tcp_loose=0) — so a forgotten flow is really dead, as behind a
// real NAT. Its entry flushed mid-session (conntrack -F): a verdict within the budget and a
// reconnect. A short established timeout: a flow whose heartbeat interval is longer than the
// timeout dies while idle; with heartbeats inside the timeout the same idle flow stays up.
#include "event_json.hpp"
#include "fault_drill.hpp"
#include "netns_fixture.hpp"

namespace heartbeat::netns {
namespace {

using std::chrono::seconds;

constexpr unsigned port = 7215;
constexpr const char* nat_address = "10.213.3.2"; // the address the client dials

class NatConntrack : public NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped())
            return;
        lab = std::make_unique<netns_lab>();
        client_ns = lab->add_namespace("client");
        router_ns = lab->add_namespace("router");
        server_ns = lab->add_namespace("server");
        const auto client_side =
            lab->link(client_ns, "10.213.3.1/24", router_ns, std::string(nat_address) + "/24");
        const auto server_side = lab->link(router_ns, "10.213.4.1/24", server_ns, "10.213.4.2/24");
        const std::string p = std::to_string(port);
        router("sysctl -qw net.ipv4.ip_forward=1");
        router("sysctl -qw net.netfilter.nf_conntrack_tcp_loose=0");
        router("iptables -t nat -A PREROUTING -i " + client_side.second + " -p tcp --dport " + p +
               " -j DNAT --to-destination 10.213.4.2:" + p);
        router("iptables -t nat -A POSTROUTING -o " + server_side.first + " -j MASQUERADE");
        // In mangle PREROUTING, so packets to the router's own addresses are dropped too
        // instead of being answered with a RST by its TCP stack.
        router("iptables -t mangle -A PREROUTING -m conntrack --ctstate INVALID -j DROP");
    }
    void TearDown() override {
        client.reset();
        sinks.clear();
        lab.reset();
    }
    void router(const std::string& command) { lab->run_in(router_ns, command); }
    // Conntrack entries of the router for our port.
    int tracked_flows() {
        std::string out;
        lab->try_in(router_ns, "conntrack -L -p tcp --dport " + std::to_string(port), &out);
        int n = 0;
        for (std::size_t at = 0; (at = out.find("ESTABLISHED", at)) != std::string::npos; ++at)
            ++n;
        return n;
    }
    void start(const heartbeat_timing& t, const std::vector<std::string>& flags) {
        sinks.push_back(std::make_unique<sink_process>(server_ns, port, t));
        client = std::make_unique<watch_process>(
            client_ns,
            std::vector<std::string>{std::string(nat_address) + ":" + std::to_string(port)}, t,
            flags);
    }

    std::unique_ptr<netns_lab> lab;
    std::string client_ns, router_ns, server_ns;
    std::vector<std::unique_ptr<sink_process>> sinks;
    std::unique_ptr<watch_process> client;
};

TEST_F(NatConntrack, FlushedEntryGivesAVerdictWithinTheBudgetAndAReconnect) {
    const heartbeat_timing timing;
    start(timing, {"--send-rate", "50", "--backoff-initial", "100ms", "--backoff-max", "1s"});
    drill_plan plan;
    plan.fault = "NAT conntrack entry flushed (conntrack -F)";
    plan.hold = std::chrono::milliseconds(0); // the flush is instant; a new flow is a new entry
    plan.inject = [&] {
        ASSERT_GE(tracked_flows(), 1) << "the NAT never tracked the session";
        router("conntrack -F");
    };
    plan.restore = [] {};
    const fault_figures f = run_drill(*client, sinks, timing, plan);
    record_figures(f);
    ASSERT_TRUE(f.silent_ms.has_value());
    EXPECT_GE(*f.silent_ms, timing.budget_ms()) << "a verdict before the silence budget";
    EXPECT_LE(*f.silent_ms, 2 * timing.budget_ms());
    EXPECT_LE(f.fault_to_ending_ms, 4 * timing.budget_ms());
    EXPECT_GT(f.delivery.sent, 50);
    EXPECT_EQ(f.delivery.lost, 0) << "sequence numbers sent but never taken";
}

constexpr int nat_timeout_s = 2;

TEST_F(NatConntrack, IdleFlowWithAHeartbeatSlowerThanTheNatTimeoutDies) {
    router("sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=" +
           std::to_string(nat_timeout_s));
    heartbeat_timing slow;
    slow.interval_ms = 2 * nat_timeout_s * 1000; // the NAT forgets the flow before the ping
    start(slow, {"--backoff-initial", "100ms", "--backoff-max", "1s"}); // idle: no messages
    const auto connected = client->wait_event("connected", seconds(20));
    ASSERT_TRUE(connected.has_value());
    const auto connected_at = client->arrived(*connected);
    const auto dead = client->wait_event("dead", seconds(30), *connected);
    ASSERT_TRUE(dead.has_value()) << "the idle flow survived a NAT timeout shorter than its "
                                     "heartbeat interval: it was never really dropped";
    fault_figures f;
    f.fault = "NAT timeout 2 s, idle, interval 4 s (slower than the timeout)";
    f.ending = "dead";
    f.silent_ms = json_int(client->line(*dead), "silent_ms");
    f.budget_ms = slow.budget_ms();
    f.fault_to_ending_ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(client->arrived(*dead) - connected_at)
            .count();
    const auto again = client->wait_event("connected", seconds(30), *dead);
    ASSERT_TRUE(again.has_value()) << "no reconnect through the NAT after the flow died";
    f.recovery = "reconnect";
    f.recovery_ms = client->t_ms(*again) - client->t_ms(*dead);
    record_figures(f);
    ASSERT_TRUE(f.silent_ms.has_value());
    EXPECT_GE(*f.silent_ms, slow.budget_ms());
    EXPECT_LE(*f.silent_ms, 2 * slow.budget_ms());
}

TEST_F(NatConntrack, IdleFlowWithHeartbeatsInsideTheNatTimeoutStaysUp) {
    router("sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_established=" +
           std::to_string(nat_timeout_s));
    const heartbeat_timing timing; // a ping every 200 ms of silence
    start(timing, {"--backoff-initial", "100ms", "--backoff-max", "1s"}); // idle: no messages
    const auto connected = client->wait_event("connected", seconds(20));
    ASSERT_TRUE(connected.has_value());
    // Watch for three NAT timeouts: no verdict, no close, and the NAT still knows the flow.
    const auto window = seconds(3 * nat_timeout_s);
    const auto ended = client->process().wait_line(
        [](const std::string& l) { return is_event(l, "dead") || is_event(l, "closed"); }, window,
        *connected);
    EXPECT_FALSE(ended.has_value()) << "the heartbeated flow died: " << client->line(*ended);
    EXPECT_EQ(tracked_flows(), 1) << "the NAT forgot a flow that heartbeats kept busy";
    std::size_t connects = 0;
    for (const auto& l : client->process().lines())
        connects += is_event(l.text, "connected");
    EXPECT_EQ(connects, 1u) << "the session was replaced, not kept alive";
    fault_figures f;
    f.fault = "NAT timeout 2 s, idle, interval 200 ms (heartbeats inside the timeout)";
    f.ending = ended ? "ended" : "alive for 6 s";
    f.budget_ms = timing.budget_ms();
    f.recovery = "none needed";
    record_figures(f);
}

} // namespace
} // namespace heartbeat::netns
