// Faults on the one path between a client namespace and a server namespace (one veth pair,
// 10.213.1.1 <-> 10.213.1.2) while `heartbeat watch` streams 50 numbered messages a second to
// netns_sink: the client's session must end (a verdict within the silence budget when the fault
// is silent), the supervisor must reconnect once the fault is gone, and every sequence number
// sent must reach a server at least once.
#include "event_json.hpp"
#include "fault_drill.hpp"
#include "netns_fixture.hpp"

#include <csignal>

namespace heartbeat::netns {
namespace {

constexpr unsigned port = 7213;
constexpr const char* server_address = "10.213.1.2";

class SinglePathFault : public NetnsTest {
protected:
    void SetUp() override {
        NetnsTest::SetUp();
        if (IsSkipped())
            return;
        lab = std::make_unique<netns_lab>();
        client_ns = lab->add_namespace("client");
        server_ns = lab->add_namespace("server");
        std::tie(client_if, server_if) =
            lab->link(client_ns, "10.213.1.1/24", server_ns, std::string(server_address) + "/24");
        sinks.push_back(std::make_unique<sink_process>(server_ns, port, timing));
        client = std::make_unique<watch_process>(
            client_ns,
            std::vector<std::string>{std::string(server_address) + ":" + std::to_string(port)},
            timing,
            std::vector<std::string>{"--send-rate", "50", "--backoff-initial", "100ms",
                                     "--backoff-max", "1s"});
    }
    void TearDown() override {
        client.reset(); // processes first, then the namespaces they ran in
        sinks.clear();
        lab.reset();
    }

    // iptables in the server's namespace, on its end of the veth: inbound, outbound or both.
    std::string drop_rule(const std::string& op, bool inbound) const {
        return "iptables " + op + (inbound ? " INPUT -i " : " OUTPUT -o ") + server_if + " -j DROP";
    }
    void server_iptables(const std::string& op, bool inbound) {
        lab->run_in(server_ns, drop_rule(op, inbound));
    }

    // The assertions every silent fault shares.
    void expect_verdict_within_budget(const fault_figures& f) {
        ASSERT_TRUE(f.silent_ms.has_value()) << "the dead event carries no silent_ms";
        EXPECT_GE(*f.silent_ms, timing.budget_ms()) << "a verdict before the silence budget";
        EXPECT_LE(*f.silent_ms, 2 * timing.budget_ms()) << "a verdict far past the budget";
        EXPECT_LE(f.fault_to_ending_ms, 4 * timing.budget_ms());
    }
    void expect_nothing_lost(const fault_figures& f) {
        EXPECT_GT(f.delivery.sent, 50) << "too little was streamed to judge delivery";
        EXPECT_EQ(f.delivery.lost, 0) << "sequence numbers sent but taken by no server";
        EXPECT_EQ(f.delivery.delivered, f.delivery.sent);
    }

    heartbeat_timing timing;
    std::unique_ptr<netns_lab> lab;
    std::string client_ns, server_ns, client_if, server_if;
    std::vector<std::unique_ptr<sink_process>> sinks;
    std::unique_ptr<watch_process> client;
};

TEST_F(SinglePathFault, FullBlackholeGivesAVerdictWithinTheBudgetAndReconnectsWithoutLoss) {
    drill_plan plan;
    plan.fault = "blackhole (DROP both ways)";
    plan.inject = [&] {
        server_iptables("-I", true);
        server_iptables("-I", false);
    };
    plan.restore = [&] {
        server_iptables("-D", true);
        server_iptables("-D", false);
    };
    const fault_figures f = run_drill(*client, sinks, timing, plan);
    record_figures(f);
    expect_verdict_within_budget(f);
    expect_nothing_lost(f);
}

TEST_F(SinglePathFault, HalfOpenServerToClientLossGivesAVerdictWithinTheBudget) {
    // The server still takes every message; its ACKs and pongs never arrive.
    drill_plan plan;
    plan.fault = "one-way loss, server → client dropped";
    plan.inject = [&] { server_iptables("-I", false); };
    plan.restore = [&] { server_iptables("-D", false); };
    const fault_figures f = run_drill(*client, sinks, timing, plan);
    record_figures(f);
    expect_verdict_within_budget(f);
    expect_nothing_lost(f);
}

TEST_F(SinglePathFault, HalfOpenClientToServerLossEndsTheSessionThroughTheServersVerdict) {
    // The client still hears the server's pings, so by its own reckoning the peer is alive; the
    // server hears nothing, declares the client dead and closes, and that close does arrive.
    drill_plan plan;
    plan.fault = "one-way loss, client → server dropped";
    plan.expect_verdict = false;
    plan.inject = [&] { server_iptables("-I", true); };
    plan.restore = [&] { server_iptables("-D", true); };
    const fault_figures f = run_drill(*client, sinks, timing, plan);
    record_figures(f);
    const auto server_dead = sinks.front()->process().wait_line(
        [](const std::string& l) { return is_event(l, "peer_dead"); }, std::chrono::seconds(1));
    ASSERT_TRUE(server_dead.has_value()) << "the server never declared the silent client dead";
    const auto server_silence =
        json_int(sinks.front()->process().lines().at(*server_dead).text, "silent_ms");
    ASSERT_TRUE(server_silence.has_value());
    EXPECT_GE(*server_silence, timing.budget_ms());
    EXPECT_LE(*server_silence, 2 * timing.budget_ms());
    EXPECT_LE(f.fault_to_ending_ms, 4 * timing.budget_ms());
    expect_nothing_lost(f);
}

TEST_F(SinglePathFault, ServerAddressVanishingGivesAVerdictWithinTheBudget) {
    drill_plan plan;
    plan.fault = "server address deleted (ip addr del)";
    const std::string cidr = std::string(server_address) + "/24";
    plan.inject = [&] { lab->run_in(server_ns, "ip addr del " + cidr + " dev " + server_if); };
    plan.restore = [&] { lab->run_in(server_ns, "ip addr add " + cidr + " dev " + server_if); };
    const fault_figures f = run_drill(*client, sinks, timing, plan);
    record_figures(f);
    expect_verdict_within_budget(f);
    expect_nothing_lost(f);
}

TEST_F(SinglePathFault, ServerRestartIsNoticedAtOnceAndNothingIsLost) {
    // A killed process's kernel closes its connections: the client hears it (no verdict
    // needed) and reconnects to the new process, which knows nothing of the old session, so
    // unacknowledged messages are re-sent: at-least-once, duplicates allowed.
    drill_plan plan;
    plan.fault = "server killed (SIGKILL) and restarted";
    plan.expect_verdict = false;
    plan.hold = std::chrono::milliseconds(1000);
    plan.inject = [&] {
        sinks.back()->process().signal(SIGKILL);
        sinks.back()->process().wait_exit(std::chrono::seconds(10));
    };
    plan.restore = [&] {
        sinks.push_back(std::make_unique<sink_process>(server_ns, port, timing));
    };
    const fault_figures f = run_drill(*client, sinks, timing, plan);
    record_figures(f);
    EXPECT_LE(f.fault_to_ending_ms, timing.budget_ms()) << "a loud fault should not need a verdict";
    expect_nothing_lost(f);
}

} // namespace
} // namespace heartbeat::netns
