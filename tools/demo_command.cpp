#include "demo_command.hpp"

#include "usage_error.hpp"

#include <chrono>

namespace heartbeat::cli {

namespace {

std::chrono::milliseconds whole_ms(duration d) {
    return std::chrono::ceil<std::chrono::milliseconds>(d); // 0.5ms -> 1ms, never 0
}

} // namespace

demo::options make_demo_options(const demo_args& args) {
    const session_config c = make_session_config(args.heartbeat); // names the flag on errors
    if (silence_budget(c.heartbeat) > max_demo_budget)
        throw usage_error("--interval/--timeout/--misses",
                          "the silence budget interval + misses * timeout must be <= 60s for the "
                          "demo");
    demo::options o;
    o.interval = whole_ms(c.heartbeat.interval);
    o.timeout = whole_ms(c.heartbeat.pong_timeout);
    o.misses = c.heartbeat.max_missed;
    const auto budget = o.interval + o.misses * o.timeout;
    o.freeze_at = std::chrono::seconds(3);
    o.recover_at = o.freeze_at + budget + std::chrono::seconds(3);
    o.stream_for = o.recover_at + std::chrono::seconds(4);
    return o;
}

int run_demo(const demo_args& args, std::ostream& out) {
    return demo::run(make_demo_options(args), out);
}

} // namespace heartbeat::cli
