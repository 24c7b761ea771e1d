#include "fault_rig.hpp"

#include "event_json.hpp"

#include <csignal>
#include <set>
#include <stdexcept>

namespace heartbeat::netns {

namespace {

std::string ms(int value) {
    return std::to_string(value) + "ms";
}

std::vector<std::string> sink_argv(unsigned port, const heartbeat_timing& t) {
    return {HEARTBEAT_NETNS_SINK, std::to_string(port), std::to_string(t.interval_ms),
            std::to_string(t.pong_timeout_ms), std::to_string(t.misses)};
}

std::vector<std::string> watch_argv(const std::vector<std::string>& endpoints,
                                    const heartbeat_timing& t,
                                    const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {HEARTBEAT_CLI, "watch"};
    argv.insert(argv.end(), endpoints.begin(), endpoints.end());
    for (const std::string& flag :
         {std::string("--json"), std::string("--interval"), ms(t.interval_ms),
          std::string("--timeout"), ms(t.pong_timeout_ms), std::string("--misses"),
          std::to_string(t.misses)})
        argv.push_back(flag);
    argv.insert(argv.end(), extra.begin(), extra.end());
    return argv;
}

} // namespace

sink_process::sink_process(const std::string& ns, unsigned port, const heartbeat_timing& timing)
    : process_(ns, sink_argv(port, timing)) {
    if (!process_.wait_line([](const std::string& l) { return is_event(l, "listening"); },
                            std::chrono::seconds(20)))
        throw std::runtime_error("netns_sink did not start listening in " + ns);
}

std::vector<std::uint64_t> sink_process::taken() const {
    std::vector<std::uint64_t> seqs;
    for (const output_line& l : process_.lines())
        if (is_event(l.text, "message"))
            if (auto seq = json_int(l.text, "seq"))
                seqs.push_back(static_cast<std::uint64_t>(*seq));
    return seqs;
}

bool sink_process::wait_taken(std::uint64_t seq, steady::duration limit) {
    return process_
        .wait_line(
            [seq](const std::string& l) {
                return is_event(l, "message") &&
                       json_int(l, "seq").value_or(0) >= static_cast<std::int64_t>(seq);
            },
            limit)
        .has_value();
}

watch_process::watch_process(const std::string& ns, const std::vector<std::string>& endpoints,
                             const heartbeat_timing& timing,
                             const std::vector<std::string>& extra_flags)
    : process_(ns, watch_argv(endpoints, timing, extra_flags)) {}

std::optional<std::size_t> watch_process::wait_event(const std::string& event,
                                                     steady::duration limit, std::size_t from,
                                                     const std::string& endpoint) {
    return process_.wait_line(
        [&](const std::string& l) {
            return is_event(l, event) &&
                   (endpoint.empty() || json_field(l, "endpoint").value_or("") == endpoint);
        },
        limit, from);
}

std::string watch_process::line(std::size_t index) const {
    return process_.lines().at(index).text;
}

std::int64_t watch_process::t_ms(std::size_t index) const {
    return json_int(line(index), "t_ms").value_or(-1);
}

steady::time_point watch_process::arrived(std::size_t index) const {
    return process_.lines().at(index).at;
}

bool watch_process::wait_caught_up(std::size_t from, steady::duration limit) {
    const auto until = steady::now() + limit;
    const auto first = wait_event("delivery", limit, from);
    if (!first)
        return false;
    const std::int64_t target = json_int(line(*first), "sent").value_or(0);
    return process_
        .wait_line(
            [target](const std::string& l) {
                return is_event(l, "delivery") && json_int(l, "acked").value_or(-1) >= target;
            },
            until - steady::now(), *first)
        .has_value();
}

std::string watch_process::stop(steady::duration limit) {
    process_.signal(SIGTERM);
    if (!process_.wait_exit(limit))
        throw std::runtime_error("heartbeat watch did not exit after SIGTERM");
    const auto lines = process_.lines();
    for (auto it = lines.rbegin(); it != lines.rend(); ++it)
        if (is_event(it->text, "delivery"))
            return it->text;
    throw std::runtime_error("heartbeat watch printed no delivery event");
}

delivery_summary count_delivery(const std::string& final_delivery,
                                const std::vector<const sink_process*>& sinks) {
    delivery_summary s;
    s.sent = json_int(final_delivery, "sent").value_or(-1);
    s.acked = json_int(final_delivery, "acked").value_or(-1);
    s.resent = json_int(final_delivery, "resent").value_or(-1);
    std::set<std::uint64_t> distinct;
    std::int64_t takes = 0;
    for (const sink_process* sink : sinks)
        for (std::uint64_t seq : sink->taken()) {
            ++takes;
            distinct.insert(seq);
        }
    s.duplicated = takes - static_cast<std::int64_t>(distinct.size());
    for (std::int64_t seq = 1; seq <= s.sent; ++seq)
        if (distinct.count(static_cast<std::uint64_t>(seq)))
            ++s.delivered;
    s.lost = s.sent - s.delivered;
    return s;
}

} // namespace heartbeat::netns
