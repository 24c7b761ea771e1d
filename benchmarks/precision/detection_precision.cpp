// Issue 14 item 4: detection precision of a frozen peer, this project against the mechanisms a
// user would otherwise pick, all configured to tolerate the same silence B (--budget-ms, 800).
//
// Each trial forks one peer process (freeze_peer.hpp), connects every contender to it side by
// side on one io_context, lets them run for a random warm-up in [1, 2] x B (so the freeze falls
// at a random phase of every contender's timers) and SIGSTOPs the peer. Contenders:
//   missed  ws_session, interval I = B/4, pong timeout B/4, 3 misses: budget I + 3 x B/4 = B.
//   phi     ws_session, phi-accrual detector, same pings. Pongs arrive every ~I, so the window's
//           mean is ~I and its std-dev (jitter 10 %: ~I/17) sits under min_std_deviation = B/8;
//           phi(t) = -log10(P(N(I, B/8) > t)), and dead_threshold = phi at t = B (z = (B-I)/(B/8)
//           = 6, phi ~ 9.0), suspect at z = 2. first_interval_estimate = I so the prior agrees.
//   beast   websocket::stream with stream_base::timeout{2 s, idle_timeout = B, keep_alive_pings}
//           and a read outstanding. Its read fails exactly idle_timeout after the last frame it
//           received (measured: silence at verdict 2.000 x B in every trial when idle was 2B;
//           its detection time from the freeze is what varies, 0.5-1.0 x idle, issue 14), so
//           idle_timeout = B is the setting that tolerates the same silence.
//   zmq     DEALER, ZMQ_HEARTBEAT_IVL = I, ZMQ_HEARTBEAT_TIMEOUT = B, ZMQ_HEARTBEAT_TTL = B,
//           verdict = ZMQ_EVENT_DISCONNECTED from zmq_socket_monitor. A ZMTP PING goes out every
//           I and the link drops B after a PING with nothing received, so it never gives up
//           before B either. Its PONGs are invisible to the application, so the client sends an
//           echo every I/4 and silence is measured from the last echo received.
//   tcp     SO_KEEPALIVE with TCP_KEEPIDLE 1 s, TCP_KEEPINTVL 1 s, TCP_KEEPCNT 1 (a dead host
//           would be caught in ~2 s). The frozen process's kernel answers the probes, so it is
//           never caught; shown on the first --tcp-trials trials by waiting 4 x B + 2 s.
// Per contender and trial: silence at the verdict / B and detection time from the SIGSTOP / B.
// A trial during which this process itself stood still for more than 50 ms (a gap in its event
// loop) measures the machine, not the detectors: it is printed, discarded and rerun (at most
// trials/2 times). Rows go to --data (for gnuplot, see plot_precision.gp), a summary to stdout.
//
// Usage: detection_precision [--trials=30] [--budget-ms=800] [--tcp-trials=2] [--seed=1]
//          [--data=detection_precision.dat]
#include "freeze_peer.hpp"
#include "precision_clients.hpp"

#include <algorithm>
#include <cmath>
#include <csignal>
#include <fstream>
#include <map>
#include <random>

namespace {

using namespace precision;
using steady = std::chrono::steady_clock;

struct options {
    int trials = 30;
    int budget_ms = 800;
    int tcp_trials = 2;
    unsigned seed = 1;
    std::string data = "detection_precision.dat";
};

options parse(int argc, char** argv) {
    options o;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const auto eq = a.find('=');
        const std::string key = a.substr(0, eq),
                          val = eq == std::string::npos ? "" : a.substr(eq + 1);
        try {
            if (key == "--trials")
                o.trials = std::stoi(val);
            else if (key == "--budget-ms")
                o.budget_ms = std::stoi(val);
            else if (key == "--tcp-trials")
                o.tcp_trials = std::stoi(val);
            else if (key == "--seed")
                o.seed = static_cast<unsigned>(std::stoul(val));
            else if (key == "--data")
                o.data = val;
            else
                fail("unknown option " + a + " (see the header of detection_precision.cpp)");
        } catch (const std::logic_error&) {
            fail("bad value in " + a);
        }
    }
    if (o.trials < 1 || o.budget_ms < 100 || o.tcp_trials < 0)
        fail("need --trials >= 1, --budget-ms >= 100, --tcp-trials >= 0");
    return o;
}

struct trial_result {
    std::vector<outcome> outcomes; // one per contender, in contender order
    double max_gap_ms = 0;
};

trial_result one_trial(const options& o, int index, std::mt19937_64& rng) {
    const auto budget = std::chrono::milliseconds(o.budget_ms);
    const bool with_tcp = index < o.tcp_trials;
    peer_process peer = spawn_peer();
    trial_result r;
    {
        asio::io_context ioc(1);
        std::vector<std::unique_ptr<contender>> cs = make_contenders(ioc, peer, budget, with_tcp);
        steady::duration max_gap{};
        auto run_until = [&](auto done, steady::duration limit) {
            const auto end = steady::now() + limit;
            auto last = steady::now();
            while (!done() && steady::now() < end) {
                ioc.run_for(std::chrono::milliseconds(1));
                if (ioc.stopped())
                    ioc.restart();
                for (auto& c : cs)
                    c->poll();
                const auto now = steady::now();
                max_gap = std::max(max_gap, now - last);
                last = now;
            }
            return done();
        };
        std::uniform_real_distribution<double> warm(1.0, 2.0);
        const auto warm_end =
            steady::now() + std::chrono::duration_cast<steady::duration>(warm(rng) * budget);
        const auto all_ready = [&] {
            return std::all_of(cs.begin(), cs.end(), [](auto& c) { return c->ready(); });
        };
        if (!run_until([&] { return steady::now() >= warm_end && all_ready(); },
                       std::chrono::seconds(10))) {
            std::string which;
            for (auto& c : cs)
                if (!c->ready())
                    which += " " + c->name();
            fail("contenders not ready within 10 s:" + which);
        }
        for (auto& c : cs)
            if (c->result().detected)
                fail(c->name() + " gave a verdict before the freeze (" + c->result().note + ")");
        const auto t_stop = steady::now();
        freeze(peer);
        max_gap = {};
        const auto limit = with_tcp ? 4 * budget + std::chrono::seconds(2) : 4 * budget;
        const auto all_done = [&] {
            return std::all_of(cs.begin(), cs.end(), [](auto& c) { return c->result().detected; });
        };
        run_until(all_done, limit);
        r.max_gap_ms = std::chrono::duration<double, std::milli>(max_gap).count();
        for (auto& c : cs) {
            outcome out = c->result();
            if (out.detected) {
                out.detect_over_budget = (out.at - t_stop) / std::chrono::duration<double>(budget);
                out.silence_over_budget = out.silence / std::chrono::duration<double>(budget);
            }
            r.outcomes.push_back(out);
        }
        end_peer(peer); // before the clients close: nothing left to answer them
    }
    end_peer(peer);
    return r;
}

double pick(std::vector<double> v, double q) {
    std::sort(v.begin(), v.end());
    return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1) + 0.5)];
}

} // namespace

int main(int argc, char** argv) {
    const options o = parse(argc, argv);
    std::signal(SIGPIPE, SIG_IGN);
    std::ofstream data(o.data);
    if (!data)
        fail("cannot write " + o.data);
    data << "# detection_precision --trials=" << o.trials << " --budget-ms=" << o.budget_ms
         << " --seed=" << o.seed << "\n# index mechanism trial detected detect/budget "
         << "silence/budget\n";
    std::printf("== detection precision: %d SIGSTOPs of one peer process, every contender "
                "tolerating %d ms of silence (B); seed %u ==\n",
                o.trials, o.budget_ms, o.seed);
    std::mt19937_64 rng(o.seed);
    std::map<std::string, std::vector<double>> detect, silence;
    std::map<std::string, int> verdicts, runs;
    std::vector<std::string> order;
    int kept = 0, discarded = 0;
    for (int i = 0; kept < o.trials; ++i) {
        const trial_result r = one_trial(o, kept, rng);
        const bool stalled = r.max_gap_ms > 50;
        std::printf("  trial %2d (loop gap %5.1f ms)", i + 1, r.max_gap_ms);
        for (const auto& c : r.outcomes) {
            if (c.detected)
                std::printf(" | %s %.3f/%.3f", c.name.c_str(), c.detect_over_budget,
                            c.silence_over_budget);
            else
                std::printf(" | %s none", c.name.c_str());
        }
        if (stalled && discarded < o.trials / 2) {
            ++discarded;
            std::printf("  DISCARDED (this process stood still)\n");
            continue;
        }
        std::printf("\n");
        ++kept;
        for (std::size_t k = 0; k < r.outcomes.size(); ++k) {
            const auto& c = r.outcomes[k];
            if (std::find(order.begin(), order.end(), c.name) == order.end())
                order.push_back(c.name);
            ++runs[c.name];
            data << k << ' ' << c.name << ' ' << kept << ' ' << (c.detected ? 1 : 0) << ' '
                 << (c.detected ? c.detect_over_budget : NAN) << ' '
                 << (c.detected ? c.silence_over_budget : NAN) << '\n';
            if (c.detected) {
                ++verdicts[c.name];
                detect[c.name].push_back(c.detect_over_budget);
                silence[c.name].push_back(c.silence_over_budget);
            }
        }
        std::fflush(stdout);
    }
    std::printf("  %d trial(s) discarded and rerun; B = %d ms; figures are x B "
                "(min / median / p90 / max)\n",
                discarded, o.budget_ms);
    for (const auto& n : order) {
        std::printf("  %-7s verdicts %2d/%-2d", n.c_str(), verdicts[n], runs[n]);
        if (verdicts[n] > 0) {
            const auto& d = detect[n];
            const auto& s = silence[n];
            std::printf("  detection from SIGSTOP %.3f / %.3f / %.3f / %.3f   silence at verdict "
                        "%.3f / %.3f / %.3f / %.3f",
                        pick(d, 0), pick(d, 0.5), pick(d, 0.9), pick(d, 1), pick(s, 0),
                        pick(s, 0.5), pick(s, 0.9), pick(s, 1));
        } else {
            std::printf("  no verdict within the bounded wait (%.1f x B after the SIGSTOP)",
                        4.0 + 2000.0 / o.budget_ms);
        }
        std::printf("\n");
    }
    std::printf("  data: %s\n", o.data.c_str());
    return 0;
}
