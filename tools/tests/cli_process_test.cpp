// End-to-end tests of the `heartbeat` binary: real child processes, real sockets, real signals.
// Every wait is bounded and every child is killed (by its PID) and reaped, so a broken tool
// fails the test instead of hanging it.
#include <gtest/gtest.h>

#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <map>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <spawn.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// A child process with stdout and stderr piped to us.
class child_process {
public:
    explicit child_process(std::vector<std::string> args) {
        args.insert(args.begin(), HEARTBEAT_CLI_PATH);
        int out[2], err[2];
        if (pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0)
            throw std::runtime_error(std::string("pipe2: ") + std::strerror(errno));
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_adddup2(&actions, out[1], STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&actions, err[1], STDERR_FILENO);
        std::vector<char*> argv;
        for (auto& a : args)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        const int rc = posix_spawn(&pid_, argv[0], &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        ::close(out[1]);
        ::close(err[1]);
        out_fd_ = out[0];
        err_fd_ = err[0];
        if (rc != 0) {
            pid_ = -1;
            throw std::runtime_error(std::string("posix_spawn: ") + std::strerror(rc));
        }
    }

    ~child_process() {
        if (pid_ > 0 && !status_) {
            ::kill(pid_, SIGKILL);
            int st = 0;
            ::waitpid(pid_, &st, 0);
        }
        ::close(out_fd_);
        ::close(err_fd_);
    }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    void signal(int sig) {
        if (pid_ > 0 && !status_)
            ::kill(pid_, sig);
    }

    // Next stdout line, or nullopt at EOF or when `limit` passes.
    std::optional<std::string> read_line(std::chrono::milliseconds limit) {
        const auto deadline = steady::now() + limit;
        for (;;) {
            if (const auto nl = out_buf_.find('\n'); nl != std::string::npos) {
                std::string line = out_buf_.substr(0, nl);
                out_buf_.erase(0, nl + 1);
                return line;
            }
            if (out_eof_ || !read_some(out_fd_, out_buf_, out_eof_, deadline))
                return std::nullopt;
        }
    }

    // All of stderr until the child closes it (or `limit` passes).
    std::string read_stderr(std::chrono::milliseconds limit) {
        const auto deadline = steady::now() + limit;
        while (!err_eof_ && read_some(err_fd_, err_buf_, err_eof_, deadline)) {
        }
        return err_buf_;
    }

    // The exit status, or nullopt if the child is still running after `limit`.
    std::optional<int> wait_exit(std::chrono::milliseconds limit) {
        const auto deadline = steady::now() + limit;
        while (!status_) {
            int st = 0;
            const pid_t r = ::waitpid(pid_, &st, WNOHANG);
            if (r == pid_) {
                status_ = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
                break;
            }
            if (steady::now() >= deadline)
                return std::nullopt;
            std::this_thread::sleep_for(10ms);
        }
        return status_;
    }

private:
    // Reads what is available; false when the deadline passed with nothing read.
    static bool read_some(int fd, std::string& buf, bool& eof, steady::time_point deadline) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
        if (left <= 0ms)
            return false;
        pollfd p{fd, POLLIN, 0};
        const int n = ::poll(&p, 1, static_cast<int>(left.count()));
        if (n < 0 && errno == EINTR)
            return true;
        if (n <= 0)
            return false;
        char chunk[4096];
        const ssize_t got = ::read(fd, chunk, sizeof chunk);
        if (got <= 0)
            eof = true;
        else
            buf.append(chunk, static_cast<std::size_t>(got));
        return true;
    }

    pid_t pid_ = -1;
    int out_fd_ = -1, err_fd_ = -1;
    std::string out_buf_, err_buf_;
    bool out_eof_ = false, err_eof_ = false;
    std::optional<int> status_;
};

// One flat JSON object of string and integer members: all the tool emits, and all we need to
// check it without a JSON library.
struct json_line {
    std::map<std::string, std::string> strings;
    std::map<std::string, std::int64_t> numbers;

    std::string str(const std::string& k) const {
        auto it = strings.find(k);
        return it == strings.end() ? std::string() : it->second;
    }
    std::optional<std::int64_t> num(const std::string& k) const {
        auto it = numbers.find(k);
        return it == numbers.end() ? std::nullopt : std::optional(it->second);
    }
    std::string event() const { return str("event"); }
};

std::optional<json_line> parse_flat_json(const std::string& s) {
    std::size_t i = 0;
    const auto skip_ws = [&] {
        while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
            ++i;
    };
    const auto parse_string = [&]() -> std::optional<std::string> {
        if (i >= s.size() || s[i] != '"')
            return std::nullopt;
        std::string out;
        for (++i; i < s.size(); ++i) {
            if (s[i] == '"') {
                ++i;
                return out;
            }
            if (s[i] != '\\') {
                out += s[i];
                continue;
            }
            if (++i >= s.size())
                return std::nullopt;
            switch (s[i]) {
            case 'n':
                out += '\n';
                break;
            case 't':
                out += '\t';
                break;
            case 'r':
                out += '\r';
                break;
            case 'b':
                out += '\b';
                break;
            case 'f':
                out += '\f';
                break;
            case 'u': // kept as written: the tests never compare escaped text
                if (i + 4 >= s.size())
                    return std::nullopt;
                out += "\\u" + s.substr(i + 1, 4);
                i += 4;
                break;
            default:
                out += s[i];
            }
        }
        return std::nullopt;
    };
    json_line out;
    skip_ws();
    if (i >= s.size() || s[i++] != '{')
        return std::nullopt;
    skip_ws();
    if (i < s.size() && s[i] == '}')
        return out;
    for (;;) {
        skip_ws();
        auto key = parse_string();
        skip_ws();
        if (!key || i >= s.size() || s[i++] != ':')
            return std::nullopt;
        skip_ws();
        if (i < s.size() && s[i] == '"') {
            auto v = parse_string();
            if (!v)
                return std::nullopt;
            out.strings[*key] = *v;
        } else {
            const std::size_t start = i;
            if (i < s.size() && s[i] == '-')
                ++i;
            while (i < s.size() && s[i] >= '0' && s[i] <= '9')
                ++i;
            if (i == start)
                return std::nullopt;
            out.numbers[*key] = std::stoll(s.substr(start, i - start));
        }
        skip_ws();
        if (i >= s.size())
            return std::nullopt;
        if (s[i] == '}')
            return ++i == s.size() ? std::optional(out) : std::nullopt;
        if (s[i++] != ',')
            return std::nullopt;
    }
}

// Reads JSON lines until one has `event` (or the limit passes); other events go to `seen`.
std::optional<json_line> next_event(child_process& p, const std::string& event,
                                    std::chrono::milliseconds limit,
                                    std::vector<std::string>* seen = nullptr) {
    const auto deadline = steady::now() + limit;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
        if (left <= 0ms)
            return std::nullopt;
        const auto line = p.read_line(left);
        if (!line)
            return std::nullopt;
        const auto j = parse_flat_json(*line);
        EXPECT_TRUE(j) << "not a flat JSON object: " << *line;
        if (!j)
            continue;
        EXPECT_TRUE(j->num("t_ms")) << *line;
        if (j->event() == event)
            return j;
        if (seen)
            seen->push_back(*line);
    }
}

std::string port_of(const std::string& address) {
    return address.substr(address.rfind(':') + 1);
}

// A port nobody listens on: bound by the kernel's choice, then released.
int unused_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

} // namespace

TEST(CliProcess, FlatJsonParserReadsTheToolsLines) {
    const auto j = parse_flat_json(R"({"t_ms":12,"event":"dead","reason":"pe\"er","missed":-3})");
    ASSERT_TRUE(j);
    EXPECT_EQ(j->num("t_ms"), 12);
    EXPECT_EQ(j->event(), "dead");
    EXPECT_EQ(j->str("reason"), "pe\"er");
    EXPECT_EQ(j->num("missed"), -3);
    EXPECT_FALSE(parse_flat_json("{\"a\":1"));
    EXPECT_FALSE(parse_flat_json("garbage"));
}

TEST(CliProcess, WatchDetectsAFrozenServerWithinItsSilenceBudget) {
    const std::vector<std::string> hb = {"--interval", "200ms",    "--timeout",
                                         "200ms",      "--misses", "3"};
    std::vector<std::string> serve_args = {"serve", "--listen", "127.0.0.1:0", "--json"};
    serve_args.insert(serve_args.end(), hb.begin(), hb.end());
    child_process serve(serve_args);
    const auto listening = next_event(serve, "listening", 10s);
    ASSERT_TRUE(listening) << serve.read_stderr(1s);
    const std::string address = listening->str("address");
    ASSERT_EQ(address.rfind("127.0.0.1:", 0), 0u) << address;
    const std::string port = port_of(address);
    ASSERT_NE(port, "0");

    const std::string endpoint = "127.0.0.1:" + port;
    std::vector<std::string> watch_args = {"watch", endpoint, "--json", "--jitter", "0"};
    watch_args.insert(watch_args.end(), hb.begin(), hb.end());
    child_process watch(watch_args);

    std::vector<std::string> before;
    const auto connected = next_event(watch, "connected", 10s, &before);
    ASSERT_TRUE(connected) << watch.read_stderr(1s);
    EXPECT_TRUE(before.empty()) << "first event: " << before.front();
    EXPECT_EQ(connected->str("endpoint"), endpoint);

    // Both sides ping only when the link is quiet, so which side measures a round trip depends on
    // whose timer fires first; the server's jitter makes the watcher win within a few intervals.
    const auto rtt = next_event(watch, "rtt", 10s);
    ASSERT_TRUE(rtt);
    EXPECT_EQ(rtt->str("endpoint"), endpoint);
    EXPECT_GT(rtt->num("rtt_us").value_or(0), 0);
    EXPECT_GT(rtt->num("srtt_us").value_or(0), 0);

    serve.signal(SIGSTOP); // frozen: the kernel still holds the connection, nothing answers
    const auto stopped_at = steady::now();
    std::vector<std::string> between;
    const auto dead = next_event(watch, "dead", 10s, &between);
    const auto waited =
        std::chrono::duration_cast<std::chrono::milliseconds>(steady::now() - stopped_at);
    serve.signal(SIGCONT);
    ASSERT_TRUE(dead) << "no verdict " << waited.count() << " ms after SIGSTOP";
    EXPECT_EQ(dead->str("endpoint"), endpoint);
    EXPECT_EQ(dead->str("reason"), "peer_dead");
    EXPECT_EQ(dead->num("missed"), 3);
    // Budget: interval + misses * timeout = 200 + 3 * 200 = 800 ms. The library's own tests hold
    // the verdict to [budget, budget + 30 ms]; across processes on a shared CI box we allow more.
    const auto silent_ms = dead->num("silent_ms").value_or(-1);
    std::cout << "[ measured ] silent_ms = " << silent_ms << " (budget 800 ms), verdict "
              << waited.count() << " ms after SIGSTOP\n";
    RecordProperty("silent_ms", std::to_string(silent_ms));
    EXPECT_GE(silent_ms, 800);
    EXPECT_LE(silent_ms, 800 + 300);
    bool saw_suspect = false;
    for (const auto& line : between)
        saw_suspect = saw_suspect || line.find("\"event\":\"suspect\"") != std::string::npos;
    EXPECT_TRUE(saw_suspect) << "no suspect event before the verdict";

    const auto closed = next_event(watch, "closed", 5s);
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->str("reason"), "peer_dead");

    serve.signal(SIGTERM);
    watch.signal(SIGTERM);
    EXPECT_EQ(watch.wait_exit(10s), std::optional<int>(0));
    EXPECT_EQ(serve.wait_exit(10s), std::optional<int>(0));
}

TEST(CliProcess, WatchForExitsZeroAndTheServerSeesThePeerComeAndGo) {
    child_process serve({"serve", "--listen", "127.0.0.1:0", "--json"});
    const auto listening = next_event(serve, "listening", 10s);
    ASSERT_TRUE(listening);
    const std::string endpoint = "127.0.0.1:" + port_of(listening->str("address"));

    child_process watch({"watch", endpoint, "--json", "--for", "700ms", "--interval", "100ms"});
    ASSERT_TRUE(next_event(watch, "connected", 10s));
    const auto closed = next_event(watch, "closed", 10s);
    ASSERT_TRUE(closed);
    EXPECT_EQ(closed->str("reason"), "session_closed");
    EXPECT_GE(closed->num("t_ms").value_or(0), 700);
    EXPECT_EQ(watch.wait_exit(10s), std::optional<int>(0));

    const auto peer = next_event(serve, "peer_connected", 5s);
    ASSERT_TRUE(peer);
    EXPECT_EQ(peer->str("peer").rfind("127.0.0.1:", 0), 0u);
    const auto gone = next_event(serve, "peer_closed", 5s);
    ASSERT_TRUE(gone);
    EXPECT_EQ(gone->str("peer"), peer->str("peer"));
    EXPECT_EQ(gone->str("reason"), "peer_closed");

    serve.signal(SIGINT);
    EXPECT_EQ(serve.wait_exit(10s), std::optional<int>(0));
}

TEST(CliProcess, ConnectFailureIsReportedAsClosedAndRetriedAfterOneSecond) {
    const std::string endpoint = "127.0.0.1:" + std::to_string(unused_port());
    child_process watch({"watch", endpoint, "--json", "--for", "1500ms"});
    const auto first = next_event(watch, "closed", 5s);
    ASSERT_TRUE(first);
    EXPECT_EQ(first->str("endpoint"), endpoint);
    EXPECT_EQ(first->str("reason"), "connection_refused");
    const auto second = next_event(watch, "closed", 5s);
    ASSERT_TRUE(second);
    EXPECT_EQ(second->str("reason"), "connection_refused");
    const auto gap = second->num("t_ms").value_or(0) - first->num("t_ms").value_or(0);
    EXPECT_GE(gap, 1000);
    EXPECT_LT(gap, 1500);
    EXPECT_EQ(watch.wait_exit(10s), std::optional<int>(0));
}

TEST(CliProcess, BadArgumentsExitTwoNamingTheArgument) {
    const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
        {{"watch", "127.0.0.1:1", "--interval", "abc"}, "--interval"},
        {{"watch"}, "ENDPOINT"},
        {{"serve", "--listen", "nonsense"}, "--listen"},
        {{"watch", "nonsense"}, "ENDPOINT"},
        {{"watch", "127.0.0.1:1", "--timeout", "5"}, "--timeout"},
        {{"watch", "127.0.0.1:1", "--misses", "0"}, "--misses"},
        {{"watch", "127.0.0.1:1", "--jitter", "0.9"}, "--jitter"},
        {{"watch", "127.0.0.1:1", "--for", "1h"}, "--for"},
        {{"serve", "--min-interval", "-1s"}, "--min-interval"},
        {{"serve", "--bogus"}, "--bogus"},
    };
    for (const auto& [args, named] : cases) {
        std::string cmd;
        for (const auto& a : args)
            cmd += a + " ";
        child_process p(args);
        const auto err = p.read_stderr(10s);
        EXPECT_EQ(p.wait_exit(10s), std::optional<int>(2)) << cmd;
        EXPECT_NE(err.find(named), std::string::npos) << cmd << "-> " << err;
        EXPECT_EQ(err.rfind("heartbeat: ", 0), 0u) << cmd << "-> " << err;
        EXPECT_EQ(std::count(err.begin(), err.end(), '\n'), 1) << cmd << "-> " << err;
    }
    child_process interval({"watch", "127.0.0.1:1", "--interval", "abc"});
    EXPECT_EQ(interval.read_stderr(10s),
              "heartbeat: --interval: invalid duration 'abc' (use ms, s or m suffix, e.g. 250ms, "
              "1.5s, 2m)\n");
}

TEST(CliProcess, HelpExitsZeroAndDocumentsEveryEvent) {
    const std::vector<std::string> serve_events = {"listening", "peer_connected", "peer_dead",
                                                   "peer_closed"};
    const std::vector<std::string> watch_events = {"connected", "rtt",  "suspect",
                                                   "alive",     "dead", "closed"};
    const auto help_of = [](std::vector<std::string> args) {
        child_process p(std::move(args));
        std::string out;
        while (auto line = p.read_line(10s))
            out += *line + "\n";
        EXPECT_EQ(p.wait_exit(10s), std::optional<int>(0));
        return out;
    };
    const auto main_help = help_of({"--help"});
    for (const auto& e : serve_events)
        EXPECT_NE(main_help.find(e), std::string::npos) << e;
    for (const auto& e : watch_events)
        EXPECT_NE(main_help.find(e), std::string::npos) << e;

    const auto serve_help = help_of({"serve", "--help"});
    for (const std::string s :
         {"--listen", "--interval", "--timeout", "--misses", "--min-interval", "--json", "t_ms",
          "address", "peer", "reason", "missed", "silent_ms"})
        EXPECT_NE(serve_help.find(s), std::string::npos) << s;
    for (const auto& e : serve_events)
        EXPECT_NE(serve_help.find(e), std::string::npos) << e;

    const auto watch_help = help_of({"watch", "--help"});
    for (const std::string s :
         {"ENDPOINT", "--interval", "--timeout", "--misses", "--for", "--json", "--jitter", "t_ms",
          "endpoint", "rtt_us", "srtt_us", "missed", "reason", "silent_ms"})
        EXPECT_NE(watch_help.find(s), std::string::npos) << s;
    for (const auto& e : watch_events)
        EXPECT_NE(watch_help.find(e), std::string::npos) << e;
}
