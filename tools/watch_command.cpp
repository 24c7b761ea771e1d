#include "watch_command.hpp"

#include "duration_arg.hpp"
#include "endpoint_watcher.hpp"
#include "graceful_stop.hpp"
#include "usage_error.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>

#include <algorithm>
#include <optional>

namespace heartbeat::cli {

namespace asio = boost::asio;

int run_watch(const watch_args& args) {
    if (args.endpoints.empty())
        throw usage_error("ENDPOINT", "at least one HOST:PORT is required");
    std::vector<host_port> targets;
    for (const auto& e : args.endpoints) {
        try {
            targets.push_back(parse_host_port(e, false));
        } catch (const std::invalid_argument& err) {
            throw usage_error("ENDPOINT", err.what());
        }
    }
    const session_config config = make_session_config(args.heartbeat);
    std::optional<duration> run_for;
    if (!args.run_for.empty()) {
        try {
            run_for = parse_duration(args.run_for);
        } catch (const std::invalid_argument& err) {
            throw usage_error("--for", err.what());
        }
        if (*run_for <= duration::zero())
            throw usage_error("--for", "must be > 0");
    }

    event_writer out(stdout, args.json ? output_format::json : output_format::text);
    asio::io_context ioc; // one thread: callbacks never run concurrently
    std::vector<std::unique_ptr<endpoint_watcher>> watchers;
    for (std::size_t i = 0; i < targets.size(); ++i)
        watchers.push_back(
            std::make_unique<endpoint_watcher>(ioc, args.endpoints[i], targets[i], config, out));

    asio::steady_timer run_for_timer(ioc);
    graceful_stop stopper(
        ioc,
        [&] {
            run_for_timer.cancel();
            for (auto& w : watchers)
                w->stop();
        },
        [&] {
            return std::all_of(watchers.begin(), watchers.end(),
                               [](const auto& w) { return w->finished(); });
        });
    if (run_for) {
        run_for_timer.expires_after(*run_for);
        run_for_timer.async_wait([&](boost::system::error_code ec) {
            if (!ec)
                stopper.request();
        });
    }
    for (auto& w : watchers)
        asio::co_spawn(ioc, w->run(), asio::detached);
    ioc.run();
    return 0;
}

} // namespace heartbeat::cli
