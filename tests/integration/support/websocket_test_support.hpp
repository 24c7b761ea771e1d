#pragma once
// Helpers of the WebSocket integration tests: connecting websocket sessions, child processes
// (Node peers, headless Chromium) that can be frozen with SIGSTOP as a whole process tree, and
// where the interop scripts live.
//
// Every wait is bounded; every child process is killed by PID or process group and reaped by
// its owner.
#include "test_support.hpp"

#include <heartbeat/server/websocket_server.hpp>
#include <heartbeat/protocol/websocket/websocket_session.hpp>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/websocket/stream.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace heartbeat::wstest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

inline tcp::endpoint loopback(unsigned short port = 0) {
    return {asio::ip::make_address("127.0.0.1"), port};
}

inline double ms(duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

inline websocket_session_config fast_ws_config(std::chrono::milliseconds interval,
                                               std::chrono::milliseconds timeout, unsigned misses) {
    websocket_session_config c;
    c.heartbeat.interval = interval;
    c.heartbeat.pong_timeout = timeout;
    c.heartbeat.max_missed = misses;
    c.heartbeat.jitter = 0.0;
    return c;
}

// Connects to ws://127.0.0.1:port/target and completes the WebSocket handshake (blocking).
template <class Executor>
websocket::stream<tcp::socket> ws_connect(const Executor& ex, unsigned short port,
                                          const std::string& target = "/") {
    websocket::stream<tcp::socket> ws(ex);
    beast::get_lowest_layer(ws).connect(loopback(port));
    ws.handshake("127.0.0.1:" + std::to_string(port), target);
    return ws;
}

// Two ends of a loopback TCP connection upgraded to WebSocket in-process (the server end
// accepts, the client end handshakes), driving `ioc` for at most 5 s; `upgraded` says whether
// both handshakes completed. The sockets bring their executors (a strand, say).
struct upgraded_pair {
    websocket::stream<tcp::socket> server;
    websocket::stream<tcp::socket> client;
    bool upgraded = false;
};

inline upgraded_pair upgrade_pair(asio::io_context& ioc, tcp::socket server_socket,
                                  tcp::socket client_socket);
inline upgraded_pair upgrade_pair(asio::io_context& ioc) {
    return upgrade_pair(ioc, tcp::socket(ioc), tcp::socket(ioc));
}

// The bounded waits of every integration test.
using heartbeat::test::run_until;
using heartbeat::test::run_until_thrown;
using heartbeat::test::wait_until;

inline upgraded_pair upgrade_pair(asio::io_context& ioc, tcp::socket server_socket,
                                  tcp::socket client_socket) {
    tcp::acceptor acceptor(ioc, loopback());
    upgraded_pair p{websocket::stream<tcp::socket>(std::move(server_socket)),
                    websocket::stream<tcp::socket>(std::move(client_socket))};
    p.client.next_layer().connect(acceptor.local_endpoint());
    acceptor.accept(p.server.next_layer());
    bool accepted = false, handshaken = false;
    p.server.async_accept([&](boost::system::error_code ec) { accepted = !ec; });
    p.client.async_handshake("127.0.0.1", "/",
                             [&](boost::system::error_code ec) { handshaken = !ec; });
    p.upgraded = run_until(
        ioc, [&] { return accepted && handshaken; }, 5s);
    return p;
}

// An io_context run by its own thread until destruction; `block()` makes that thread stop
// running handlers (an in-process "frozen" peer) until `unblock()`.
class io_thread {
public:
    io_thread() : guard_(asio::make_work_guard(ioc_)), thread_([this] { ioc_.run(); }) {}
    ~io_thread() {
        unblock();
        guard_.reset();
        ioc_.stop();
        thread_.join();
    }
    asio::io_context& context() { return ioc_; }
    // Posts a handler that holds the thread until unblock(); returns once it holds it.
    void block() {
        blocked_ = true;
        entered_ = false;
        asio::post(ioc_, [this] {
            entered_ = true;
            while (blocked_)
                std::this_thread::sleep_for(std::chrono::microseconds(200));
        });
        wait_until([this] { return entered_.load(); }, 5s);
    }
    void unblock() { blocked_ = false; }

private:
    asio::io_context ioc_;
    asio::executor_work_guard<asio::io_context::executor_type> guard_;
    std::atomic<bool> blocked_{false};
    std::atomic<bool> entered_{false};
    std::thread thread_;
};

// ---- What a websocket_server reported, per peer id (thread-safe) -----------------------------

struct verdict_log {
    std::mutex mutex;
    std::map<std::uint64_t, verdict> dead; // by peer id
    std::map<std::uint64_t, int> rtts;
    std::map<std::uint64_t, boost::system::error_code> closed;
    std::vector<std::uint64_t> connected;

    server_callbacks callbacks() {
        server_callbacks cb;
        cb.on_peer_connected = [this](const peer_info& p) {
            std::lock_guard lock(mutex);
            connected.push_back(p.id);
        };
        cb.on_peer_rtt = [this](const peer_info& p, duration, duration) {
            std::lock_guard lock(mutex);
            ++rtts[p.id];
        };
        cb.on_peer_dead = [this](const peer_info& p, const verdict& v) {
            std::lock_guard lock(mutex);
            dead[p.id] = v;
        };
        cb.on_peer_closed = [this](const peer_info& p, boost::system::error_code ec) {
            std::lock_guard lock(mutex);
            closed[p.id] = ec;
        };
        return cb;
    }
    int rtt_count(std::uint64_t id) {
        std::lock_guard lock(mutex);
        return rtts.count(id) ? rtts[id] : 0;
    }
    std::optional<verdict> verdict_of(std::uint64_t id) {
        std::lock_guard lock(mutex);
        auto it = dead.find(id);
        return it == dead.end() ? std::nullopt : std::optional<verdict>(it->second);
    }
    std::optional<boost::system::error_code> closed_reason(std::uint64_t id) {
        std::lock_guard lock(mutex);
        auto it = closed.find(id);
        return it == closed.end() ? std::nullopt
                                  : std::optional<boost::system::error_code>(it->second);
    }
    std::size_t connected_count() {
        std::lock_guard lock(mutex);
        return connected.size();
    }
};

constexpr auto kVerdictWindow = 50ms; // how late after the silence budget a verdict may come

// gtest expectations on a verdict: silence within [budget, budget + kVerdictWindow].
inline void expect_in_window(const verdict& v, duration budget, const char* what) {
    std::printf("[ws-verdict] %s silence_ms=%.3f budget_ms=%.0f late_ms=%.3f missed=%u\n", what,
                ms(v.silence), ms(budget), ms(v.silence - budget), v.missed);
    std::fflush(stdout);
    EXPECT_EQ(v.reason, error::peer_dead);
    EXPECT_EQ(v.stalled, duration::zero());
    EXPECT_GE(v.silence, budget) << what << ": declared dead before the silence budget";
    EXPECT_LE(v.silence, budget + kVerdictWindow)
        << what << ": declared dead " << ms(v.silence - budget) << " ms after the budget";
}

// ---- Child processes ---------------------------------------------------------------------------

inline std::optional<std::string> find_in_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    if (!path)
        return std::nullopt;
    std::stringstream ss(path);
    std::string dir;
    while (std::getline(ss, dir, ':')) {
        if (dir.empty())
            continue;
        const auto candidate = std::filesystem::path(dir) / name;
        if (::access(candidate.c_str(), X_OK) == 0)
            return candidate.string();
    }
    return std::nullopt;
}

// tests/interop (node scripts and node_modules): $HEARTBEAT_INTEROP_DIR, the compile-time
// HEARTBEAT_INTEROP_DIR, or found next to this file.
inline std::filesystem::path interop_dir() {
    if (const char* env = std::getenv("HEARTBEAT_INTEROP_DIR"))
        return env;
#ifdef HEARTBEAT_INTEROP_DIR
    return HEARTBEAT_INTEROP_DIR;
#else
    return std::filesystem::absolute(std::filesystem::path(__FILE__).parent_path().parent_path() /
                                     "interop");
#endif
}

// Direct children of every process, from /proc.
inline std::vector<pid_t> descendants_of(pid_t root) {
    std::vector<std::pair<pid_t, pid_t>> parent_of; // (pid, ppid)
    for (const auto& entry : std::filesystem::directory_iterator("/proc")) {
        const std::string name = entry.path().filename().string();
        if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit))
            continue;
        std::ifstream stat(entry.path() / "stat");
        std::string line;
        if (!std::getline(stat, line))
            continue;
        const auto close = line.rfind(')');
        if (close == std::string::npos || close + 4 > line.size())
            continue;
        std::istringstream rest(line.substr(close + 2));
        char state = 0;
        pid_t ppid = 0;
        rest >> state >> ppid;
        parent_of.emplace_back(static_cast<pid_t>(std::stol(name)), ppid);
    }
    std::vector<pid_t> out;
    std::set<pid_t> seen{root};
    std::vector<pid_t> frontier{root};
    while (!frontier.empty()) {
        const pid_t p = frontier.back();
        frontier.pop_back();
        for (const auto& [pid, ppid] : parent_of)
            if (ppid == p && seen.insert(pid).second) {
                out.push_back(pid);
                frontier.push_back(pid);
            }
    }
    return out;
}

// The state letter of /proc/PID/stat ('T' = stopped), or 0 if the process is gone.
inline char process_state(pid_t pid) {
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    if (!std::getline(stat, line))
        return 0;
    const auto close = line.rfind(')');
    if (close == std::string::npos || close + 2 >= line.size())
        return 0;
    return line[close + 2];
}

inline std::string process_cmdline(pid_t pid) {
    std::ifstream f("/proc/" + std::to_string(pid) + "/cmdline", std::ios::binary);
    std::string s((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    std::replace(s.begin(), s.end(), '\0', ' ');
    return s;
}

// Sends `sig` to each pid; for SIGSTOP waits (bounded) until each is reported stopped.
inline bool signal_all(const std::vector<pid_t>& pids, int sig) {
    for (pid_t p : pids)
        ::kill(p, sig);
    if (sig != SIGSTOP)
        return true;
    return wait_until(
        [&] {
            return std::all_of(pids.begin(), pids.end(), [](pid_t p) {
                const char s = process_state(p);
                return s == 'T' || s == 't' || s == 0 || s == 'Z';
            });
        },
        5s);
}

// A child process started with fork+exec: stdin is a pipe we hold (the Node scripts exit when
// it closes), stdout is a pipe we read lines from, stderr is inherited. With `own_group` it
// leads its own process group, so the whole tree (e.g. Chromium's renderer and network
// service) can be frozen and killed at once. It dies with the test process (PR_SET_PDEATHSIG)
// and is always killed and reaped by the destructor.
class child_process {
public:
    child_process() = default;
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;
    ~child_process() { kill_and_reap(); }

    // `output_file`: when set, stdout and stderr go there (appended) instead of a pipe.
    // `env`: "NAME=VALUE" entries that replace or extend the inherited environment.
    bool start(const std::vector<std::string>& args, bool own_group = false,
               const std::filesystem::path& cwd = {}, const std::filesystem::path& output_file = {},
               const std::vector<std::string>& env = {}) {
        int in[2], out[2];
        if (::pipe2(in, O_CLOEXEC) != 0)
            return false;
        if (::pipe2(out, O_CLOEXEC) != 0) {
            ::close(in[0]);
            ::close(in[1]);
            return false;
        }
        std::vector<std::string> storage = args;
        std::vector<char*> argv;
        for (auto& a : storage)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        std::vector<std::string> env_storage;
        for (char** e = environ; *e; ++e) {
            const std::string entry(*e);
            const auto name = entry.substr(0, entry.find('=') + 1);
            const bool replaced = std::any_of(env.begin(), env.end(), [&](const std::string& o) {
                return o.compare(0, name.size(), name) == 0;
            });
            if (!replaced)
                env_storage.push_back(entry);
        }
        env_storage.insert(env_storage.end(), env.begin(), env.end());
        std::vector<char*> envp;
        for (auto& e : env_storage)
            envp.push_back(e.data());
        envp.push_back(nullptr);
        const std::string dir = cwd.string();
        int log_fd = -1;
        if (!output_file.empty()) {
            log_fd = ::open(output_file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
            if (log_fd < 0) {
                for (int fd : {in[0], in[1], out[0], out[1]})
                    ::close(fd);
                return false;
            }
        }
        const pid_t parent = ::getpid();
        const pid_t pid = ::fork();
        if (pid < 0) {
            for (int fd : {in[0], in[1], out[0], out[1], log_fd})
                if (fd >= 0)
                    ::close(fd);
            return false;
        }
        if (pid == 0) {
            // Child: async-signal-safe calls only.
            if (own_group)
                ::setpgid(0, 0);
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent)
                ::_exit(127);
            ::dup2(in[0], STDIN_FILENO);
            ::dup2(log_fd >= 0 ? log_fd : out[1], STDOUT_FILENO);
            if (log_fd >= 0)
                ::dup2(log_fd, STDERR_FILENO);
            if (!dir.empty() && ::chdir(dir.c_str()) != 0)
                ::_exit(127);
            ::execve(argv[0], argv.data(), envp.data());
            ::_exit(127);
        }
        if (own_group)
            ::setpgid(pid, pid); // also from here: no race with the first kill(-pgid)
        ::close(in[0]);
        ::close(out[1]);
        if (log_fd >= 0)
            ::close(log_fd);
        stdin_ = in[1];
        stdout_ = out[0];
        pid_ = pid;
        own_group_ = own_group;
        return true;
    }

    pid_t pid() const noexcept { return pid_; }

    // Next stdout line (without '\n'), or nullopt after `limit` or at EOF.
    std::optional<std::string> read_line(std::chrono::milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        for (;;) {
            const auto nl = buffer_.find('\n');
            if (nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                return line;
            }
            if (stdout_ < 0)
                return std::nullopt;
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now());
            if (left <= std::chrono::milliseconds::zero())
                return std::nullopt;
            pollfd p{stdout_, POLLIN, 0};
            const int r = ::poll(&p, 1, static_cast<int>(left.count()));
            if (r < 0 && errno == EINTR)
                continue;
            if (r <= 0)
                return std::nullopt;
            char buf[4096];
            const ssize_t n = ::read(stdout_, buf, sizeof buf);
            if (n <= 0) {
                ::close(stdout_);
                stdout_ = -1;
                continue;
            }
            buffer_.append(buf, static_cast<std::size_t>(n));
        }
    }

    // Reads lines until one satisfies `pred`; returns it.
    template <class Pred>
    std::optional<std::string> read_until(Pred pred, std::chrono::milliseconds limit) {
        const auto end = std::chrono::steady_clock::now() + limit;
        for (;;) {
            const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                end - std::chrono::steady_clock::now());
            if (left <= std::chrono::milliseconds::zero())
                return std::nullopt;
            auto line = read_line(left);
            if (!line)
                return std::nullopt;
            if (pred(*line))
                return line;
        }
    }

    // Every process of the tree: the child, its process group, and (from /proc) its
    // descendants, in case one of them left the group.
    std::vector<pid_t> tree() const {
        std::vector<pid_t> pids{pid_};
        for (pid_t d : descendants_of(pid_))
            pids.push_back(d);
        return pids;
    }

    // SIGSTOP to the child (its whole group and tree with own_group); waits until stopped.
    bool freeze() {
        if (pid_ <= 0)
            return false;
        if (!own_group_) {
            if (::kill(pid_, SIGSTOP) != 0)
                return false;
            int status = 0;
            return ::waitpid(pid_, &status, WUNTRACED) == pid_ && WIFSTOPPED(status);
        }
        const auto pids = tree();
        ::kill(-pid_, SIGSTOP);
        return signal_all(pids, SIGSTOP);
    }

    // SIGCONT to what freeze() stopped.
    void thaw() {
        if (pid_ <= 0)
            return;
        if (own_group_) {
            signal_all(tree(), SIGCONT);
            ::kill(-pid_, SIGCONT);
        } else {
            ::kill(pid_, SIGCONT);
        }
    }

    // SIGCONT then SIGKILL (the group and tree with own_group), then reaps the child.
    // Idempotent.
    void kill_and_reap() {
        if (stdin_ >= 0) {
            ::close(stdin_);
            stdin_ = -1;
        }
        if (pid_ > 0) {
            if (own_group_) {
                const auto pids = tree();
                ::kill(-pid_, SIGCONT);
                ::kill(-pid_, SIGKILL);
                signal_all(pids, SIGKILL);
            } else {
                ::kill(pid_, SIGCONT);
                ::kill(pid_, SIGKILL);
            }
            int status = 0;
            while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
            }
            pid_ = -1;
        }
        if (stdout_ >= 0) {
            ::close(stdout_);
            stdout_ = -1;
        }
    }

private:
    pid_t pid_ = -1;
    bool own_group_ = false;
    int stdin_ = -1;
    int stdout_ = -1;
    std::string buffer_;
};

// Interop peers missing is a failure, not a skip, in CI (CI=true, where
// scripts/install-deps.sh installs them) or with HEARTBEAT_REQUIRE_INTEROP=1.
inline bool interop_required() {
    for (const char* name : {"HEARTBEAT_REQUIRE_INTEROP", "CI"}) {
        const char* v = std::getenv(name);
        if (v && *v && std::string(v) != "0" && std::string(v) != "false")
            return true;
    }
    return false;
}

// Why a Node interop test cannot run here, or nullopt when node and the ws package are there.
inline std::optional<std::string> node_unavailable() {
    if (!find_in_path("node"))
        return "`node` is not on PATH (scripts/install-deps.sh installs nodejs)";
    if (!std::filesystem::exists(interop_dir() / "node_modules" / "ws" / "package.json"))
        return (interop_dir() / "node_modules/ws").string() +
               " is missing (run `npm ci` in tests/interop; scripts/install-deps.sh does)";
    return std::nullopt;
}

} // namespace heartbeat::wstest
