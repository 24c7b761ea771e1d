#pragma once
// Real third-party servers for the protocol-profile tests: redis-server and mosquitto (Debian
// packages, installed by scripts/install-deps.sh), started by the test on a loopback port it
// picks, listening on 127.0.0.1 only, frozen with SIGSTOP, and stopped by PID. Each dies with the
// test process (PR_SET_PDEATHSIG) and is killed and reaped by its destructor.
#include "test_support.hpp"

#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace heartbeat::test {

// Where `name` is installed (PATH, then /usr/sbin where Debian puts mosquitto), if anywhere.
inline std::optional<std::string> find_program(const std::string& name) {
    std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
    path += ":/usr/sbin:/usr/local/sbin";
    std::size_t start = 0;
    while (start <= path.size()) {
        const std::size_t end = std::min(path.find(':', start), path.size());
        const std::filesystem::path candidate =
            std::filesystem::path(path.substr(start, end - start)) / name;
        if (end > start && ::access(candidate.c_str(), X_OK) == 0)
            return candidate.string();
        start = end + 1;
    }
    return std::nullopt;
}

// A missing server is a failure, not a skip, in CI (CI=true) or with HEARTBEAT_REQUIRE_INTEROP=1:
// scripts/test.sh sets it, and scripts/install-deps.sh installs the servers.
inline bool servers_required() {
    for (const char* name : {"HEARTBEAT_REQUIRE_INTEROP", "CI"}) {
        const char* v = std::getenv(name);
        if (v && *v && std::string(v) != "0" && std::string(v) != "false")
            return true;
    }
    return false;
}

// A port the kernel just handed out and took back: free unless someone grabs it meanwhile.
inline unsigned short free_loopback_port() {
    asio::io_context ioc;
    tcp::acceptor a(ioc, loopback(0));
    return a.local_endpoint().port();
}

class server_process {
public:
    server_process() = default;
    server_process(const server_process&) = delete;
    server_process& operator=(const server_process&) = delete;
    ~server_process() { stop(); }

    // Starts `argv` with stdout and stderr going to `log`, then waits (bounded) until `port`
    // on 127.0.0.1 accepts connections. False (and cleaned up) when it does not.
    bool start(const std::vector<std::string>& args, unsigned short port,
               const std::filesystem::path& log,
               std::chrono::milliseconds limit = std::chrono::milliseconds(10000)) {
        std::vector<std::string> storage(args);
        std::vector<char*> argv;
        for (auto& a : storage)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        const int out = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (out < 0)
            return false;
        const pid_t parent = ::getpid();
        const pid_t pid = ::fork();
        if (pid < 0) {
            ::close(out);
            return false;
        }
        if (pid == 0) { // async-signal-safe calls only
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent)
                ::_exit(127);
            ::dup2(out, STDOUT_FILENO);
            ::dup2(out, STDERR_FILENO);
            ::execv(argv[0], argv.data());
            ::_exit(127);
        }
        ::close(out);
        pid_ = pid;
        port_ = port;
        const auto end = std::chrono::steady_clock::now() + limit;
        while (std::chrono::steady_clock::now() < end) {
            asio::io_context ioc;
            tcp::socket s(ioc);
            boost::system::error_code ec;
            s.connect(loopback(port), ec);
            if (!ec)
                return true;
            int status = 0;
            if (::waitpid(pid_, &status, WNOHANG) == pid_) { // it exited: bad config, port taken
                pid_ = -1;
                return false;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        stop();
        return false;
    }

    pid_t pid() const noexcept { return pid_; }
    unsigned short port() const noexcept { return port_; }
    tcp::endpoint endpoint() const { return loopback(port_); }

    // SIGSTOP, then waits (bounded) until the kernel reports it stopped.
    bool freeze() {
        if (pid_ <= 0 || ::kill(pid_, SIGSTOP) != 0)
            return false;
        int status = 0;
        return ::waitpid(pid_, &status, WUNTRACED) == pid_ && WIFSTOPPED(status);
    }

    bool thaw() { return pid_ > 0 && ::kill(pid_, SIGCONT) == 0; }

    // SIGKILL (works on a stopped process too), then reaps it. Idempotent.
    void stop() {
        if (pid_ <= 0)
            return;
        ::kill(pid_, SIGKILL);
        int status = 0;
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        pid_ = -1;
    }

private:
    pid_t pid_ = -1;
    unsigned short port_ = 0;
};

// redis-server on 127.0.0.1 with no persistence; `extra` appends arguments (e.g. --replicaof).
inline std::unique_ptr<server_process> start_redis(const temp_dir& dir, const char* name,
                                                   std::vector<std::string> extra = {}) {
    const auto binary = find_program("redis-server");
    if (!binary)
        return nullptr;
    for (int attempt = 0; attempt < 5; ++attempt) {
        const unsigned short port = free_loopback_port();
        std::vector<std::string> args{*binary,
                                      "--port",
                                      std::to_string(port),
                                      "--bind",
                                      "127.0.0.1",
                                      "--save",
                                      "",
                                      "--appendonly",
                                      "no",
                                      "--dir",
                                      dir.path().string(),
                                      "--protected-mode",
                                      "yes",
                                      "--repl-diskless-sync-delay",
                                      "0"};
        args.insert(args.end(), extra.begin(), extra.end());
        auto server = std::make_unique<server_process>();
        if (server->start(args, port, dir.path() / (std::string(name) + ".log")))
            return server;
    }
    return nullptr;
}

// mosquitto on 127.0.0.1, anonymous clients allowed, no persistence.
inline std::unique_ptr<server_process> start_mosquitto(const temp_dir& dir, const char* name) {
    const auto binary = find_program("mosquitto");
    if (!binary)
        return nullptr;
    for (int attempt = 0; attempt < 5; ++attempt) {
        const unsigned short port = free_loopback_port();
        const auto conf = dir.path() / (std::string(name) + ".conf");
        std::ofstream(conf) << "listener " << port << " 127.0.0.1\n"
                            << "allow_anonymous true\n"
                            << "persistence false\n";
        auto server = std::make_unique<server_process>();
        if (server->start({*binary, "-c", conf.string()}, port,
                          dir.path() / (std::string(name) + ".log")))
            return server;
    }
    return nullptr;
}

// In a test body: skips (or, where servers are required, fails) when `binary` is missing.
#define HEARTBEAT_REQUIRE_SERVER(binary)                                                           \
    do {                                                                                           \
        if (!::heartbeat::test::find_program(binary)) {                                            \
            if (::heartbeat::test::servers_required())                                             \
                FAIL() << binary << " is not installed (scripts/install-deps.sh installs it)";     \
            GTEST_SKIP() << binary << " is not installed (scripts/install-deps.sh installs it)";   \
        }                                                                                          \
    } while (false)

} // namespace heartbeat::test
