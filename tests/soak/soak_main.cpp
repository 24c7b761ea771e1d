// hb_soak: the bounded soak test. Starts P hb_soak_peer server processes on 127.0.0.1, runs N
// heartbeat::client sessions (native protocol) in this process streaming numbered messages to
// them, SIGKILLs/SIGSTOPs peers at random and restarts/thaws them, then drains and checks:
// zero false verdicts, zero lost messages, client RSS at the end within 5 % of steady state.
//
// Usage: hb_soak [--duration S] [--sessions N] [--peers P] [--rate MSGS_PER_S] [--seed X]
//                [--peer PATH_TO_hb_soak_peer] [--rss-csv FILE]
//                [--events wait|callback]
// Exit status 0 when every check passed, 1 when one failed, 2 on bad usage or setup failure.
//
// Why primary + backup: session i has peers[i % P] as primary and peers[(i+1) % P] as backup,
// so every fault exercises the supervisor's whole path (verdict or reset, failover, resend of
// the unacked messages, probes, failback once the primary is back on its old port) and not
// only a reconnect. Why both SIGKILL and SIGSTOP: a killed process's kernel resets its
// connections at once (no verdict needed), only a frozen one leaves the heartbeat to notice.
// A verdict counts as earned when its peer was frozen or killed between the fault and the
// silence budget + 3 s after the peer came back; any other verdict is a false one, printed
// with its `stalled` share and the clients' loop lag before it (load or bug?).
#include "peer_chaos.hpp"
#include "peer_process.hpp"
#include "soak_fleet.hpp"
#include "soak_report.hpp"

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <future>
#include <string>
#include <thread>

namespace {

using namespace std::chrono_literals;
using soak::soak_clock;

struct options {
    double duration_s = 600;
    std::size_t sessions = 1000;
    std::size_t peers = 8;
    double rate = 2.0;
    std::uint64_t seed = 1;
    std::string peer_path;
    std::string rss_csv; // optional: every RSS sample, for plotting
    bool wait_events = true;
};

bool parse(int argc, char** argv, options& o) {
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (i + 1 >= argc) {
            std::fprintf(stderr, "hb_soak: %s needs a value\n", a.c_str());
            return false;
        }
        const char* v = argv[++i];
        char* end = nullptr;
        if (a == "--duration")
            o.duration_s = std::strtod(v, &end);
        else if (a == "--sessions")
            o.sessions = std::strtoul(v, &end, 10);
        else if (a == "--peers")
            o.peers = std::strtoul(v, &end, 10);
        else if (a == "--rate")
            o.rate = std::strtod(v, &end);
        else if (a == "--seed")
            o.seed = std::strtoull(v, &end, 10);
        else if (a == "--events") {
            o.wait_events = std::strcmp(v, "wait") == 0;
            if (o.wait_events || std::strcmp(v, "callback") == 0)
                end = const_cast<char*>(v) + std::strlen(v);
        } else if (a == "--rss-csv")
            o.rss_csv = v, end = const_cast<char*>(v) + std::strlen(v);
        else if (a == "--peer")
            o.peer_path = v, end = const_cast<char*>(v) + std::strlen(v);
        else {
            std::fprintf(stderr, "hb_soak: unknown option %s\n", a.c_str());
            return false;
        }
        if (!end || *end != '\0') {
            std::fprintf(stderr, "hb_soak: invalid value for %s: %s\n", a.c_str(), v);
            return false;
        }
    }
    if (o.duration_s < 20 || o.sessions == 0 || o.peers < 2 || o.rate <= 0 || o.rate > 100) {
        std::fprintf(stderr, "hb_soak: need --duration >= 20, --sessions >= 1, --peers >= 2, "
                             "0 < --rate <= 100\n");
        return false;
    }
    if (o.peer_path.empty()) {
        std::string self = argv[0];
        const auto slash = self.rfind('/');
        o.peer_path = (slash == std::string::npos ? std::string(".") : self.substr(0, slash)) +
                      "/hb_soak_peer";
    }
    return true;
}

// Runs `f` on the clients' thread and waits (bounded) for its result.
template <class F>
auto on_fleet_thread(boost::asio::io_context& ioc, F f) -> std::optional<decltype(f())> {
    std::promise<decltype(f())> p;
    auto fut = p.get_future();
    boost::asio::post(ioc, [&] { p.set_value(f()); });
    if (fut.wait_for(30s) != std::future_status::ready)
        return std::nullopt;
    return fut.get();
}

double mib(double bytes) {
    return bytes / (1024.0 * 1024.0);
}

} // namespace

int main(int argc, char** argv) {
    options opt;
    if (!parse(argc, argv, opt))
        return 2;
    const auto start = soak_clock::now();
    auto now_s = [&] { return std::chrono::duration<double>(soak_clock::now() - start).count(); };

    // Heartbeat timings of both sides: a 4 s silence budget (1 s + 3 x 1 s).
    const std::vector<std::string> peer_args{"1000", "1000", "3"};
    std::vector<std::unique_ptr<soak::peer_process>> peers;
    std::vector<unsigned short> ports;
    for (std::size_t p = 0; p < opt.peers; ++p) {
        peers.push_back(std::make_unique<soak::peer_process>());
        if (!peers.back()->start(opt.peer_path, 0, peer_args)) {
            std::fprintf(stderr, "hb_soak: could not start %s\n", opt.peer_path.c_str());
            return 2;
        }
        ports.push_back(peers.back()->port());
    }

    soak::fleet_options fo;
    fo.sessions = opt.sessions;
    fo.rate = opt.rate;
    fo.wait_events = opt.wait_events;
    fo.config.session.heartbeat.interval = 1s;
    fo.config.session.heartbeat.pong_timeout = 1s;
    fo.config.session.heartbeat.max_missed = 3;
    fo.config.backoff.initial = 250ms;
    fo.config.backoff.max = 2s;
    fo.config.connect_timeout = 3s;
    fo.config.endpoints.min_dwell = 5s;
    const double budget_s =
        std::chrono::duration<double>(heartbeat::silence_budget(fo.config.session.heartbeat))
            .count();

    boost::asio::io_context ioc(1);
    auto work = boost::asio::make_work_guard(ioc);
    soak::soak_fleet fleet(ioc, ports, fo, start);
    std::vector<soak::lag_sample> lags; // written on the fleet thread only
    boost::asio::steady_timer lag_timer(ioc);
    std::function<void()> watch_lag = [&] {
        lag_timer.expires_after(100ms);
        lag_timer.async_wait([&](boost::system::error_code ec) {
            if (ec)
                return;
            const double late =
                std::chrono::duration<double>(soak_clock::now() - lag_timer.expiry()).count();
            if (late > 0.05)
                lags.push_back({now_s(), late});
            watch_lag();
        });
    };
    boost::asio::post(ioc, [&] {
        fleet.start();
        watch_lag();
    });
    std::thread fleet_thread([&] { ioc.run(); });

    soak::chaos_options co;
    co.seed = opt.seed;
    soak::peer_chaos chaos(peers, opt.peer_path, peer_args, co, start);

    // Warm-up: every session connected once, then 5 s to settle (bounded by 60 s).
    std::vector<soak::rss_sample> rss;
    double warm_s = -1;
    auto tick_at = soak_clock::now();
    double next_rss_s = 0;
    const double fault_window = budget_s + 3.0;
    while (now_s() < opt.duration_s) {
        tick_at += 100ms;
        std::this_thread::sleep_until(tick_at); // sampling cadence, not synchronisation
        const double t = now_s();
        if (warm_s < 0 && (fleet.ever_connected.load() == opt.sessions || t > 60))
            warm_s = t + 5;
        chaos.tick(warm_s >= 0 && t >= warm_s);
        if (t >= next_rss_s) {
            soak::rss_sample s{t, soak::rss_bytes(), {}};
            for (auto& p : peers)
                s.peers.push_back(p->running() ? soak::rss_bytes(p->pid()) : 0);
            rss.push_back(std::move(s));
            next_rss_s = t + 1.0;
        }
    }
    const double stream_end_s = now_s();
    const std::size_t connected_once = fleet.ever_connected.load();
    const bool healed = chaos.heal_all();
    on_fleet_thread(ioc, [&] {
        fleet.stop_sending();
        return 0;
    });

    // Drain: every message handed over must be ACKed (bounded by 90 s).
    std::optional<soak::fleet_totals> totals;
    const double drain_limit_s = now_s() + 90;
    while (now_s() < drain_limit_s) {
        totals = on_fleet_thread(ioc, [&] { return fleet.totals(); });
        if (totals && totals->unacked == 0 &&
            totals->accepted + totals->send_errors == totals->sent)
            break;
        chaos.tick(false);
        std::this_thread::sleep_for(200ms);
    }
    const double drain_s = now_s() - stream_end_s;
    const std::size_t rss_after_drain = soak::rss_bytes();

    on_fleet_thread(ioc, [&] {
        fleet.close_all();
        lag_timer.cancel();
        return 0;
    });
    work.reset();
    const double close_limit_s = now_s() + 20;
    while (now_s() < close_limit_s && !ioc.stopped())
        std::this_thread::sleep_for(100ms);
    ioc.stop(); // any session still closing after 20 s is abandoned
    fleet_thread.join();
    const auto final_totals = fleet.totals();
    for (auto& p : peers)
        p->kill_and_reap();

    if (!opt.rss_csv.empty()) {
        if (std::FILE* f = std::fopen(opt.rss_csv.c_str(), "w")) {
            std::fprintf(f, "t_s,client_bytes");
            for (std::size_t p = 0; p < opt.peers; ++p)
                std::fprintf(f, ",peer%zu_bytes", p);
            std::fprintf(f, "\n");
            for (const auto& s : rss) {
                std::fprintf(f, "%.1f,%zu", s.at_s, s.client);
                for (auto b : s.peers)
                    std::fprintf(f, ",%zu", b);
                std::fprintf(f, "\n");
            }
            std::fclose(f);
        }
    }

    // Judgement.
    unsigned earned = 0, false_verdicts = 0;
    for (const auto& v : fleet.verdicts) {
        if (soak::verdict_earned(v, chaos.faults(), fault_window)) {
            ++earned;
            continue;
        }
        ++false_verdicts;
        std::printf("FALSE VERDICT at %.1f s on peer%d: silence %.2f s, stalled %.2f s, missed %u, "
                    "max loop lag in the 5 s before %.2f s\n",
                    v.at_s, v.peer, v.silence_s, v.stalled_s, v.missed,
                    soak::max_lag_in(lags, v.at_s - 5, v.at_s));
    }
    unsigned kills = 0, freezes = 0;
    for (const auto& f : chaos.faults())
        (f.kind == soak::fault_kind::kill ? kills : freezes)++;
    const auto per_peer = chaos.faults_per_peer();
    const bool every_peer_faulted =
        std::all_of(per_peer.begin(), per_peer.end(), [](unsigned n) { return n > 0; });

    const double steady_from = warm_s, steady_to = warm_s + 0.2 * (stream_end_s - warm_s);
    const double steady = soak::median_client_rss(rss, steady_from, steady_to);
    const double end_rss = soak::median_client_rss(rss, stream_end_s - 5, stream_end_s + 1);
    const double growth = steady > 0 ? (end_rss - steady) / steady * 100 : 0;
    std::vector<double> peer_end;
    double peer_max = 0;
    for (const auto& s : rss)
        for (auto b : s.peers)
            peer_max = std::max(peer_max, static_cast<double>(b));
    if (!rss.empty())
        for (auto b : rss.back().peers)
            if (b)
                peer_end.push_back(static_cast<double>(b));
    std::size_t lags_over_250ms = 0;
    for (const auto& l : lags)
        lags_over_250ms += l.lag_s > 0.25;
    const double max_lag = soak::max_lag_in(lags, 0, 1e300);

    const std::uint64_t lost = final_totals.sent - final_totals.acked;
    const bool ok_memory = std::abs(growth) <= 5.0;
    const bool pass = false_verdicts == 0 && lost == 0 && final_totals.unacked == 0 &&
                      final_totals.send_errors == 0 && final_totals.run_errors == 0 &&
                      final_totals.run_endings == opt.sessions && ok_memory && healed &&
                      chaos.unexpected_exits() == 0 && chaos.restart_failures() == 0 &&
                      connected_once == opt.sessions && every_peer_faulted;

    std::printf("\n== heartbeat soak: %zu sessions, %zu peers, %.0f s streaming (+%.1f s drain), "
                "%.1f msgs/s/session ==\n",
                opt.sessions, opt.peers, stream_end_s, drain_s, opt.rate);
    std::printf("%-34s %s\n", "check", "value");
    std::printf("%-34s %.1f s\n", "warm-up ended at", warm_s);
    std::printf("%-34s %zu / %zu\n", "sessions connected at least once", connected_once,
                opt.sessions);
    std::printf("%-34s %u (%u SIGKILL + restart, %u SIGSTOP %.0f s)\n", "faults injected",
                kills + freezes, kills, freezes, std::chrono::duration<double>(co.freeze).count());
    std::string pp;
    for (auto n : per_peer)
        pp += std::to_string(n) + " ";
    std::printf("%-34s %s%s\n", "faults per peer", pp.c_str(),
                every_peer_faulted ? "(every peer)" : "(NOT every peer)");
    std::printf("%-34s %llu\n", "messages sent", (unsigned long long)final_totals.sent);
    std::printf("%-34s %llu\n", "messages acked", (unsigned long long)final_totals.acked);
    std::printf("%-34s %llu\n", "messages resent", (unsigned long long)final_totals.resent);
    std::printf("%-34s %llu (unacked %llu, send errors %llu)\n", "messages LOST",
                (unsigned long long)lost, (unsigned long long)final_totals.unacked,
                (unsigned long long)final_totals.send_errors);
    std::printf("%-34s %llu ended by close(), %llu otherwise\n", "client runs",
                (unsigned long long)(final_totals.run_endings - final_totals.run_errors),
                (unsigned long long)final_totals.run_errors);
    std::printf("%-34s %llu\n", "sessions established", (unsigned long long)final_totals.sessions);
    std::printf("%-34s %llu / %llu\n", "failovers / failbacks",
                (unsigned long long)final_totals.failovers,
                (unsigned long long)final_totals.failbacks);
    std::printf("%-34s %zu (earned by a fault %u)\n", "verdicts (dead)", fleet.verdicts.size(),
                earned);
    std::printf("%-34s %u\n", "FALSE verdicts", false_verdicts);
    for (const auto& [reason, n] : fleet.closed_reasons)
        std::printf("  closed: %-25s %llu\n", reason.c_str(), (unsigned long long)n);
    std::printf("%-34s max %.3f s, %zu ticks > 250 ms late\n", "clients' loop lag", max_lag,
                lags_over_250ms);
    std::printf("%-34s steady %.1f MiB (median %.0f-%.0f s), end %.1f MiB (median last 5 s): "
                "%+.2f %% %s\n",
                "client RSS", mib(steady), steady_from, steady_to, mib(end_rss), growth,
                ok_memory ? "(within 5 %)" : "(OVER 5 %)");
    std::printf("%-34s %.1f MiB\n", "client RSS after drain", mib(double(rss_after_drain)));
    std::printf("%-34s median %.1f MiB at the end, max %.1f MiB seen\n", "peer RSS",
                mib(soak::median(peer_end)), mib(peer_max));
    std::printf("%-34s %u unexpected exits, %u restart failures\n", "peer processes",
                chaos.unexpected_exits(), chaos.restart_failures());
    std::printf("SOAK %s\n", pass ? "PASSED" : "FAILED");
    return pass ? 0 : 1;
}
