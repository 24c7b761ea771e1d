#pragma once
// What the end-to-end tests of the `heartbeat` binary share: a child process with piped output
// (bounded reads, killed by PID and reaped on destruction), the flat JSON lines it prints, and
// `heartbeat serve` started on a kernel-chosen port. HEARTBEAT_CLI_PATH is the binary.
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <spawn.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace heartbeat::cli_test {

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

inline std::optional<json_line> parse_flat_json(const std::string& s) {
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
inline std::optional<json_line> next_event(child_process& p, const std::string& event,
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

inline std::string port_of(const std::string& address) {
    return address.substr(address.rfind(':') + 1);
}

// A port nobody listens on: bound by the kernel's choice, then released.
inline int unused_port() {
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

// `heartbeat serve` on a kernel-chosen port, and the endpoint to watch it at.
struct serve_process {
    std::unique_ptr<child_process> process;
    std::string endpoint;
};

inline serve_process start_serve(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"serve", "--listen", "127.0.0.1:0", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    serve_process s{std::make_unique<child_process>(args), ""};
    if (const auto listening = next_event(*s.process, "listening", 10s))
        s.endpoint = "127.0.0.1:" + port_of(listening->str("address"));
    return s;
}

// `heartbeat serve --protocol ws`, and the ws:// endpoint to watch it at (with a path: the
// server accepts the upgrade on any).
inline serve_process start_ws_serve(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"--protocol", "ws"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto s = start_serve(args);
    if (!s.endpoint.empty())
        s.endpoint = "ws://" + s.endpoint + "/heartbeat";
    return s;
}

// Every JSON line until the child closes stdout (or the limit passes).
inline std::vector<json_line> read_all_events(child_process& p, std::chrono::milliseconds limit) {
    std::vector<json_line> out;
    const auto deadline = steady::now() + limit;
    for (;;) {
        const auto left =
            std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
        if (left <= 0ms)
            return out;
        const auto line = p.read_line(left);
        if (!line)
            return out;
        const auto j = parse_flat_json(*line);
        EXPECT_TRUE(j) << "not a flat JSON object: " << *line;
        if (j)
            out.push_back(*j);
    }
}

} // namespace heartbeat::cli_test
