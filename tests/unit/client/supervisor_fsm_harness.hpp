#pragma once
// Drives a supervisor_fsm on a fake timeline and spells every action it returns as one line, so
// a test asserts the exact sequence of actions, times and events of each step:
//
//   EXPECT_EQ(h.step(at(0), sv::start{}), (lines{"emit connecting a #1", "connect a"}));
//
// Endpoints are labelled a, b, c... Times print as milliseconds since the fake epoch.
#include <heartbeat/client/client_config.hpp>
#include <heartbeat/client/supervisor_fsm.hpp>
#include <heartbeat/core/error.hpp>
#include <heartbeat/core/reconnect_budget.hpp>

#include <boost/asio/error.hpp>

#include <cstddef>
#include <sstream>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace heartbeat::test {

namespace sv = heartbeat::supervisor;
using lines = std::vector<std::string>;

inline time_point at(long long ms) {
    return time_point{} + milliseconds(ms);
}

inline std::string spell(duration d) {
    std::ostringstream out;
    if (d % milliseconds(1) == duration::zero())
        out << d / milliseconds(1) << "ms";
    else
        out << d.count() << "ns";
    return out.str();
}

inline std::string spell(time_point t) {
    return t == time_point::max() ? "never" : spell(t.time_since_epoch());
}

// Every field of the event that is set.
inline std::string spell(const client_event& e) {
    std::ostringstream out;
    out << to_string(e.kind);
    if (!e.endpoint.empty())
        out << " " << e.endpoint;
    if (!e.from.empty() || !e.to.empty())
        out << " " << e.from << "->" << e.to;
    if (e.attempt)
        out << " #" << e.attempt;
    if (e.missed)
        out << " missed=" << e.missed;
    if (e.kind == client_event_kind::reconnecting || e.delay != duration::zero())
        out << " delay=" << spell(e.delay);
    if (e.rtt != duration::zero() || e.srtt != duration::zero())
        out << " rtt=" << spell(e.rtt) << " srtt=" << spell(e.srtt);
    if (e.dead)
        out << " silence=" << spell(e.dead->silence);
    if (e.reason)
        out << " " << error_name(e.reason);
    return out.str();
}

inline std::string spell(const sv::action& a) {
    const auto ep = [](std::size_t i) { return std::string(1, static_cast<char>('a' + i)); };
    return std::visit(
        [&](const auto& x) -> std::string {
            using T = std::decay_t<decltype(x)>;
            if constexpr (std::is_same_v<T, sv::connect>)
                return "connect " + ep(x.endpoint);
            else if constexpr (std::is_same_v<T, sv::start_session>)
                return "start_session " + ep(x.endpoint);
            else if constexpr (std::is_same_v<T, sv::emit>)
                return "emit " + spell(x.event);
            else if constexpr (std::is_same_v<T, sv::wait_until>)
                return "wait_until " + spell(x.deadline);
            else if constexpr (std::is_same_v<T, sv::start_probe>)
                return "start_probe " + ep(x.endpoint) + " #" + std::to_string(x.probe);
            else if constexpr (std::is_same_v<T, sv::drain_and_switch>)
                return "drain_and_switch " + ep(x.endpoint);
            else if constexpr (std::is_same_v<T, sv::close_session>)
                return "close_session";
            else if constexpr (std::is_same_v<T, sv::cancel_session>)
                return "cancel_session";
            else if constexpr (std::is_same_v<T, sv::abort_connect>)
                return "abort_connect";
            else
                return std::string("finish ") + error_name(x.reason);
        },
        a);
}

// Returns the values given, in turn, then the last one forever.
inline uniform_source scripted_uniform(std::vector<double> values) {
    return [values = std::move(values), i = std::size_t{0}]() mutable {
        const double u = values[i];
        if (i + 1 < values.size())
            ++i;
        return u;
    };
}

// A config whose numbers are easy to follow: no reconnect budget, back-off 100 ms doubling up
// to 1 s (reset after a 5 s session), probes every 500 ms, 3 healthy probes and 2 s of dwell
// for a failback, 1 s of drain.
inline client_config plain_config() {
    client_config c;
    c.use_reconnect_budget = false;
    c.backoff.initial = milliseconds(100);
    c.backoff.multiplier = 2.0;
    c.backoff.max = seconds(1);
    c.backoff.reset_after = seconds(5);
    c.endpoints.healthy_probes = 3;
    c.endpoints.min_dwell = seconds(2);
    c.probe_interval = milliseconds(500);
    c.failback_drain_timeout = seconds(1);
    return c;
}

// plain_config() with `budget` in use.
inline client_config with_budget(reconnect_budget& budget) {
    client_config c = plain_config();
    c.use_reconnect_budget = true;
    c.budget = &budget;
    return c;
}

inline std::vector<std::string> labels(std::size_t n) {
    std::vector<std::string> out;
    for (std::size_t i = 0; i < n; ++i)
        out.emplace_back(1, static_cast<char>('a' + i));
    return out;
}

// One machine; by default every back-off draws u = 0.5, so a delay is half its base.
struct fsm_harness {
    explicit fsm_harness(std::size_t endpoints, client_config c = plain_config(),
                         uniform_source rng = scripted_uniform({0.5}))
        : fsm(labels(endpoints), c, std::move(rng)) {}

    lines step(time_point now, const sv::input& in) {
        lines out;
        for (const auto& a : fsm.resume(now, in))
            out.push_back(spell(a));
        return out;
    }

    supervisor_fsm fsm;
};

inline sv::connect_done refused() {
    return {boost::asio::error::connection_refused};
}
inline sv::connect_done connected_ok() {
    return {};
}
// The session's handshake is done (connecting -> alive).
inline sv::session_state_changed handshake() {
    return {peer_state::connecting, peer_state::alive, 0};
}
inline sv::session_ended ended(error e) {
    return {make_error_code(e)};
}

} // namespace heartbeat::test
