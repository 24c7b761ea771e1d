// WebSocket heartbeats against a real browser: headless Chromium (Debian package `chromium`)
// opens a page that our websocket_server serves over plain HTTP on its own port; the page's
// WebSocket connects back to the server, whose pings the browser answers by itself.
//
//   * the browser answers our pings (RTT samples), and freezing the whole browser (SIGSTOP to
//     its process group: browser, zygotes, renderers, network service, GPU process) gets it
//     declared dead within the silence budget window;
//   * freezing only the renderers (the page's JavaScript) leaves Chromium's network service
//     answering pings -- the control-frame heartbeat keeps seeing a live peer -- while the
//     application-level heartbeat (echoed by the page's JavaScript) declares it dead.
//
// Chromium runs in its own process group, is frozen and killed by that group (and by PID for
// any descendant that left it), and is reaped at the end. Skipped (with the reason) when no
// Chromium is installed, except in CI (CI=true) or with HEARTBEAT_REQUIRE_INTEROP=1, where
// that is a failure: scripts/install-deps.sh installs it.
#include "test_support.hpp" // temp_dir
#include "websocket_test_support.hpp"

#include <boost/asio/detached.hpp>

#include <gtest/gtest.h>

using namespace heartbeat;
using namespace heartbeat::wstest;

namespace {

std::optional<std::string> find_chromium() {
    if (const char* env = std::getenv("HEARTBEAT_CHROMIUM"); env && *env)
        return std::string(env);
    for (const char* name : {"chromium", "chromium-browser", "google-chrome"})
        if (auto p = find_in_path(name))
            return p;
    return std::nullopt;
}

#define SKIP_WITHOUT_CHROMIUM()                                                                    \
    do {                                                                                           \
        if (!find_chromium()) {                                                                    \
            const char* why = "no chromium on PATH (scripts/install-deps.sh installs the Debian "  \
                              "package `chromium`)";                                               \
            if (interop_required())                                                                \
                FAIL() << "interop peers are required here (CI or HEARTBEAT_REQUIRE_INTEROP is "   \
                          "set) but "                                                              \
                       << why;                                                                     \
            GTEST_SKIP() << why;                                                                   \
        }                                                                                          \
    } while (0)

// tests/interop/browser_peer.html: connects one WebSocket per URL in ?ws=URL1,URL2, says hello
// and echoes every message it receives (which answers the application-level heartbeat).
std::string page() {
    std::ifstream f(interop_dir() / "browser_peer.html");
    return std::string((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
}

// Headless Chromium in its own process group with a fresh profile; logs to a file.
class browser {
public:
    explicit browser(const std::string& url) {
        const std::vector<std::string> args{*find_chromium(),
                                            "--headless",
                                            "--no-sandbox",
                                            "--disable-gpu",
                                            "--disable-background-networking",
                                            "--disable-component-update",
                                            "--disable-sync",
                                            "--no-first-run",
                                            "--disable-quic",
                                            "--disable-dev-shm-usage",
                                            "--disable-breakpad",
                                            "--user-data-dir=" + (dir_.path() / "profile").string(),
                                            url};
        // HOME and XDG dirs inside the temp dir too: nothing (crash database, caches) is left
        // in the real home directory.
        const auto home = (dir_.path() / "home").string();
        std::filesystem::create_directories(home);
        started_ =
            process_.start(args, /*own_group=*/true, dir_.path(), dir_.path() / "chromium.log",
                           {"HOME=" + home, "XDG_CONFIG_HOME=" + home + "/.config",
                            "XDG_CACHE_HOME=" + home + "/.cache"});
    }
    ~browser() { process_.kill_and_reap(); }
    bool started() const { return started_; }
    child_process& process() { return process_; }
    pid_t pid() const { return process_.pid(); }

    // Renderer processes (the pages' JavaScript) of this browser.
    std::vector<pid_t> renderers() const {
        std::vector<pid_t> out;
        for (pid_t p : process_.tree())
            if (process_cmdline(p).find("--type=renderer") != std::string::npos)
                out.push_back(p);
        return out;
    }

    std::string log_tail() const {
        std::ifstream f(dir_.path() / "chromium.log");
        std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        return s.size() > 3000 ? s.substr(s.size() - 3000) : s;
    }

private:
    heartbeat::test::temp_dir dir_;
    child_process process_;
    bool started_ = false;
};

websocket_server_config browser_server_config(std::chrono::milliseconds interval,
                                              std::chrono::milliseconds timeout, unsigned misses) {
    websocket_server_config c;
    c.session = fast_ws_config(interval, timeout, misses);
    c.http_pages["/"] = http_page{"text/html; charset=utf-8", page()};
    return c;
}

// The server must not echo: the page echoes, and two echoes would loop forever.
server_callbacks quiet(verdict_log& log, std::atomic<int>& hellos) {
    server_callbacks cb = log.callbacks();
    cb.on_message = [&hellos](const peer_info&, received_message m) {
        if (m.payload == "hello from the browser")
            ++hellos;
    };
    return cb;
}

} // namespace

TEST(WebSocketBrowser, ChromiumAnswersPingsAndAFrozenBrowserIsDeclaredDead) {
    SKIP_WITHOUT_CHROMIUM();
    ASSERT_NE(page().find("new WebSocket"), std::string::npos)
        << interop_dir() / "browser_peer.html";
    verdict_log log;
    std::atomic<int> hellos{0};
    io_thread server_io;
    const auto cfg = browser_server_config(200ms, 200ms, 2);
    const duration budget = silence_budget(cfg.session.heartbeat);
    websocket_server server(server_io.context(), loopback(), cfg, quiet(log, hellos));
    server.async_run(asio::detached);
    const std::string base = "127.0.0.1:" + std::to_string(server.local_endpoint().port());

    browser chromium("http://" + base + "/?ws=ws://" + base + "/");
    ASSERT_TRUE(chromium.started());
    ASSERT_TRUE(wait_until([&] { return log.connected_count() == 1 && hellos == 1; }, 60s))
        << "the page's WebSocket did not connect; chromium log:\n"
        << chromium.log_tail();
    ASSERT_TRUE(wait_until([&] { return log.rtt_count(1) >= 3; }, 10s))
        << "the browser answers pings: " << log.rtt_count(1) << " rtt samples";
    const auto st = server.peer_stats(1);
    ASSERT_TRUE(st.has_value());
    std::printf("[ws-browser] chromium: rtt_samples=%llu srtt_us=%.1f min_us=%.1f max_us=%.1f\n",
                static_cast<unsigned long long>(st->rtt.samples), ms(st->rtt.srtt) * 1000,
                ms(st->rtt.min) * 1000, ms(st->rtt.max) * 1000);

    ASSERT_TRUE(chromium.process().freeze()) << "could not SIGSTOP chromium's process group";
    ASSERT_TRUE(wait_until([&] { return log.verdict_of(1).has_value(); }, budget + 5s));
    expect_in_window(*log.verdict_of(1), budget, "chromium frozen (SIGSTOP to its process group)");
    chromium.process().thaw();
    ASSERT_TRUE(wait_until([&] { return log.closed_reason(1).has_value(); }, 5s));
    EXPECT_EQ(*log.closed_reason(1), error::peer_dead);
}

TEST(WebSocketBrowser, FrozenRendererKeepsAnsweringPingsButFailsTheApplicationHeartbeat) {
    SKIP_WITHOUT_CHROMIUM();
    verdict_log ctrl_log, app_log;
    std::atomic<int> ctrl_hellos{0}, app_hellos{0};
    io_thread server_io;
    const auto ctrl_cfg = browser_server_config(200ms, 200ms, 2);
    auto app_cfg = browser_server_config(200ms, 200ms, 2);
    app_cfg.session.app_heartbeat.enabled = true;
    app_cfg.session.heartbeat.liveness = liveness_mode::pong_only;
    const duration budget = silence_budget(app_cfg.session.heartbeat);
    websocket_server ctrl_server(server_io.context(), loopback(), ctrl_cfg,
                                 quiet(ctrl_log, ctrl_hellos));
    websocket_server app_server(server_io.context(), loopback(), app_cfg,
                                quiet(app_log, app_hellos));
    ctrl_server.async_run(asio::detached);
    app_server.async_run(asio::detached);
    const std::string ctrl = "127.0.0.1:" + std::to_string(ctrl_server.local_endpoint().port());
    const std::string app = "127.0.0.1:" + std::to_string(app_server.local_endpoint().port());

    browser chromium("http://" + ctrl + "/?ws=ws://" + ctrl + "/,ws://" + app + "/");
    ASSERT_TRUE(chromium.started());
    ASSERT_TRUE(wait_until([&] { return ctrl_hellos == 1 && app_hellos == 1; }, 60s))
        << "the page's WebSockets did not connect; chromium log:\n"
        << chromium.log_tail();
    ASSERT_TRUE(
        wait_until([&] { return ctrl_log.rtt_count(1) >= 3 && app_log.rtt_count(1) >= 3; }, 10s))
        << "control pongs: " << ctrl_log.rtt_count(1)
        << ", app heartbeat echoes: " << app_log.rtt_count(1);

    const auto renderers = chromium.renderers();
    ASSERT_FALSE(renderers.empty());
    ASSERT_TRUE(signal_all(renderers, SIGSTOP)) << "could not SIGSTOP the renderers";
    const int ctrl_rtts_at_freeze = ctrl_log.rtt_count(1);
    ASSERT_TRUE(wait_until([&] { return app_log.verdict_of(1).has_value(); }, budget + 5s));
    expect_in_window(*app_log.verdict_of(1), budget,
                     "chromium renderer frozen, application-level heartbeat");
    // Meanwhile (and for three budgets more) the network service answers control pings.
    wait_until([] { return false; }, 3 * budget);
    signal_all(renderers, SIGCONT);
    EXPECT_FALSE(ctrl_log.verdict_of(1).has_value())
        << "control pings are answered by the browser's network service, not the page";
    std::printf("[ws-browser] renderer frozen: control-ping rtt samples during the freeze: %d\n",
                ctrl_log.rtt_count(1) - ctrl_rtts_at_freeze);
    EXPECT_GE(ctrl_log.rtt_count(1), ctrl_rtts_at_freeze + 3);
}
