#include "fault_drill.hpp"

#include "event_json.hpp"

#include <cstdio>
#include <cstdlib>
#include <stdexcept>
#include <thread>

namespace heartbeat::netns {

namespace {

using std::chrono::seconds;

std::int64_t ms_between(steady::time_point from, steady::time_point to) {
    return std::chrono::duration_cast<std::chrono::milliseconds>(to - from).count();
}

std::size_t expect(std::optional<std::size_t> index, const std::string& what) {
    if (!index)
        throw std::runtime_error("never came: " + what);
    return *index;
}

std::vector<const sink_process*> all(const std::vector<std::unique_ptr<sink_process>>& sinks) {
    std::vector<const sink_process*> out;
    for (const auto& s : sinks)
        out.push_back(s.get());
    return out;
}

} // namespace

fault_figures run_drill(watch_process& client, std::vector<std::unique_ptr<sink_process>>& sinks,
                        const heartbeat_timing& timing, const drill_plan& plan) {
    fault_figures f;
    f.fault = plan.fault;
    f.budget_ms = timing.budget_ms();
    f.recovery = "reconnect";

    expect(client.wait_event("connected", seconds(20)), "the first connection");
    if (!sinks.back()->wait_taken(25, seconds(20)))
        throw std::runtime_error("never came: message 25 at the server before the fault");

    const std::size_t before_fault = client.process().line_count();
    const auto fault_at = steady::now();
    plan.inject();
    const std::size_t ending = expect(
        client.wait_event(plan.expect_verdict ? "dead" : "closed", seconds(30), before_fault),
        plan.expect_verdict ? "the client's verdict (dead)" : "the client's closed event");
    f.fault_to_ending_ms = ms_between(fault_at, client.arrived(ending));
    const std::string ending_line = client.line(ending);
    if (plan.expect_verdict) {
        f.ending = "dead";
        f.silent_ms = json_int(ending_line, "silent_ms");
    } else {
        f.ending = "closed " + json_field(ending_line, "reason").value_or("?");
    }

    // The fault lasts a while longer: how long an outage is, not a wait for anything.
    std::this_thread::sleep_for(plan.hold);
    const auto restored_at = steady::now();
    plan.restore();
    const std::size_t reconnected =
        expect(client.wait_event("connected", seconds(40), ending + 1), "the reconnect");
    f.recovery_ms = ms_between(restored_at, client.arrived(reconnected));
    if (!client.wait_caught_up(reconnected, seconds(30)))
        throw std::runtime_error("never came: the backlog acknowledged after the reconnect");

    if (std::getenv("HEARTBEAT_NETNS_DEBUG"))
        for (const auto& l : client.process().lines())
            if (!is_event(l.text, "rtt"))
                std::fprintf(stderr, "  watch: %s\n", l.text.c_str());
    const std::string final_delivery = client.stop(seconds(20));
    const auto sent = json_int(final_delivery, "sent").value_or(0);
    sinks.back()->wait_taken(static_cast<std::uint64_t>(sent), seconds(10));
    f.delivery = count_delivery(final_delivery, all(sinks));
    return f;
}

} // namespace heartbeat::netns
