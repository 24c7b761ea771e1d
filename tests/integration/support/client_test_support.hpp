#pragma once
// Helpers for the client supervisor integration tests (client_*_test.cpp): an in-process server
// on its own io_context thread that can be frozen, thawed, shut down and restarted on the same
// port; free loopback ports; a timestamped event log; a delivery log; child processes (haproxy).
//
// Every wait here is bounded in time; every child process is killed and reaped by its owner.
#include "test_support.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/client/endpoint.hpp>
#include <heartbeat/session/resume_store.hpp>
#include <heartbeat/server/server.hpp>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>

#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

namespace heartbeat::test::client_support {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A port on 127.0.0.1 with nothing listening: bound by the kernel's choice, then released.
inline unsigned short unused_port() {
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    const unsigned short port = acceptor.local_endpoint().port();
    acceptor.close();
    return port;
}

inline endpoint local_endpoint_for(unsigned short port) {
    auto e = parse_endpoint("127.0.0.1:" + std::to_string(port));
    if (!e)
        throw std::runtime_error("parse_endpoint failed");
    return *e;
}

// A heartbeat::tcp_server on its own io_context thread. It can be frozen (its thread blocked:
// it stops reading and answering but keeps its sockets open, like a hung host), thawed, and shut
// down (CLOSE to every peer, then the thread stops) so another one can start on the same port.
class threaded_server {
public:
    threaded_server(unsigned short port, const server_config& cfg, server_callbacks cb = {})
        : ioc_(std::make_unique<asio::io_context>()),
          server_(std::make_unique<tcp_server>(
              *ioc_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), port), cfg, std::move(cb))),
          work_(std::make_unique<work_guard>(ioc_->get_executor())) {
        port_ = server_->local_endpoint().port();
        server_->async_run(asio::detached);
        thread_ = std::thread([this] { ioc_->run(); });
    }
    ~threaded_server() { shutdown(std::chrono::milliseconds(2000)); }
    threaded_server(const threaded_server&) = delete;
    threaded_server& operator=(const threaded_server&) = delete;

    unsigned short port() const { return port_; }
    bool running() const { return server_ != nullptr; }
    server_stats stats() const { return server_ ? server_->stats() : server_stats{}; }
    tcp_server& server() { return *server_; }

    void freeze() {
        std::lock_guard lock(mutex_);
        if (release_ || !server_)
            return;
        release_.emplace();
        asio::post(*ioc_, [f = release_->get_future().share()] { f.wait(); });
    }
    void thaw() {
        std::lock_guard lock(mutex_);
        if (release_) {
            release_->set_value();
            release_.reset();
        }
    }

    // Closes the listener and every session (each peer gets CLOSE), waits up to `limit` for the
    // sessions to end, then stops the thread and destroys the server: the port is free again.
    // Returns whether every session ended in time.
    bool shutdown(std::chrono::milliseconds limit) {
        if (!server_)
            return true;
        thaw();
        server_->close();
        const bool drained = wait_until([&] { return server_->stats().active == 0; }, limit);
        work_.reset();
        ioc_->stop();
        thread_.join();
        server_.reset();
        ioc_.reset();
        return drained;
    }

    // A crash, as far as one process can stage it: the io_context stops (no CLOSE is sent, no
    // handler runs again), the thread ends, then the server and the io_context are destroyed.
    void crash() {
        if (!server_)
            return;
        thaw();
        work_.reset();
        ioc_->stop();
        thread_.join();
        server_.reset();
        ioc_.reset();
    }

private:
    using work_guard = asio::executor_work_guard<asio::io_context::executor_type>;
    std::unique_ptr<asio::io_context> ioc_;
    std::unique_ptr<tcp_server> server_;
    std::unique_ptr<work_guard> work_;
    std::thread thread_;
    unsigned short port_ = 0;
    std::mutex mutex_;
    std::optional<std::promise<void>> release_;
};

// Every client event with the time it was emitted, as the client callback sees it.
struct timed_event {
    client_event event;
    time_point at;
};

class event_log {
public:
    client_event_callback callback() {
        return [this](const client_event& e) {
            std::lock_guard lock(mutex_);
            events_.push_back({e, clock::now()});
        };
    }
    std::vector<timed_event> snapshot() const {
        std::lock_guard lock(mutex_);
        return events_;
    }
    std::size_t count(client_event_kind k, std::size_t from = 0) const {
        std::lock_guard lock(mutex_);
        std::size_t n = 0;
        for (std::size_t i = from; i < events_.size(); ++i)
            n += events_[i].event.kind == k;
        return n;
    }
    std::size_t size() const {
        std::lock_guard lock(mutex_);
        return events_.size();
    }
    std::string describe(std::size_t from = 0) const {
        std::lock_guard lock(mutex_);
        std::ostringstream out;
        for (std::size_t i = from; i < events_.size(); ++i) {
            const auto& e = events_[i].event;
            out << "  " << to_string(e.kind);
            if (!e.endpoint.empty())
                out << " ep=" << e.endpoint;
            if (!e.from.empty() || !e.to.empty())
                out << " " << e.from << "->" << e.to;
            if (e.kind == client_event_kind::connecting ||
                e.kind == client_event_kind::reconnecting)
                out << " attempt=" << e.attempt;
            if (e.kind == client_event_kind::reconnecting)
                out << " delay=" << to_ms(e.delay) << "ms";
            if (e.reason)
                out << " reason=" << e.reason.message();
            out << "\n";
        }
        return out.str();
    }

private:
    mutable std::mutex mutex_;
    std::vector<timed_event> events_;
};

// Every sequence number a server application received, per server and connection.
struct delivery_log {
    std::mutex mutex;
    std::vector<std::uint64_t> order; // global delivery order
    std::map<std::uint64_t, int> count;
    std::map<std::pair<int, std::uint64_t>, std::uint64_t> last_per_connection;
    std::map<int, std::uint64_t> per_server;
    int out_of_order = 0;
    std::string first_out_of_order; // "server S peer P: seq N after M", for the failure message

    void record(int server, std::uint64_t peer, std::uint64_t seq) {
        std::lock_guard lock(mutex);
        order.push_back(seq);
        ++count[seq];
        ++per_server[server];
        auto& last = last_per_connection[{server, peer}];
        if (seq <= last && out_of_order++ == 0)
            first_out_of_order = "server " + std::to_string(server) + " peer " +
                                 std::to_string(peer) + ": seq " + std::to_string(seq) +
                                 " after " + std::to_string(last);
        last = seq;
    }
    std::size_t delivered() {
        std::lock_guard lock(mutex);
        return order.size();
    }
    std::uint64_t max_seq() {
        std::lock_guard lock(mutex);
        return count.empty() ? 0 : count.rbegin()->first;
    }
    std::uint64_t on_server(int server) {
        std::lock_guard lock(mutex);
        return per_server[server];
    }
    server_callbacks callbacks(int server) {
        server_callbacks cb;
        cb.on_message = [this, server](const peer_info& p, received_message m) {
            record(server, p.id, m.seq);
        };
        return cb;
    }
};

// Raises the soft RLIMIT_NOFILE to at least `wanted` (bounded by the hard limit).
inline rlim_t ensure_open_files(rlim_t wanted) {
    rlimit r{};
    if (::getrlimit(RLIMIT_NOFILE, &r) != 0)
        return 0;
    if (r.rlim_cur < wanted) {
        r.rlim_cur = std::min(wanted, r.rlim_max);
        ::setrlimit(RLIMIT_NOFILE, &r);
        ::getrlimit(RLIMIT_NOFILE, &r);
    }
    return r.rlim_cur;
}

// `name` looked up in $PATH, as execvp would; empty when not found.
inline std::string find_on_path(const std::string& name) {
    const char* path = std::getenv("PATH");
    if (!path)
        return {};
    std::stringstream dirs(path);
    std::string dir;
    while (std::getline(dirs, dir, ':')) {
        if (dir.empty())
            dir = ".";
        const std::string candidate = dir + "/" + name;
        if (::access(candidate.c_str(), X_OK) == 0 && std::filesystem::is_regular_file(candidate))
            return candidate;
    }
    return {};
}

// A child process started with fork/exec, its stdout and stderr going to `log_path`. Stopped by
// stop(): SIGTERM, a bounded wait, then SIGKILL; always reaped. Only this PID is ever signalled.
class child_process {
public:
    child_process() = default;
    ~child_process() { stop(std::chrono::milliseconds(2000)); }
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    bool start(const std::string& path, const std::vector<std::string>& args,
               const std::string& log_path) {
        std::vector<std::string> argv_storage{path};
        argv_storage.insert(argv_storage.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& a : argv_storage)
            argv.push_back(a.data());
        argv.push_back(nullptr);
        const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (log_fd < 0)
            return false;
        const pid_t parent = ::getpid();
        const pid_t pid = ::fork();
        if (pid < 0) {
            ::close(log_fd);
            return false;
        }
        if (pid == 0) {
            // Child: async-signal-safe calls only.
            ::prctl(PR_SET_PDEATHSIG, SIGKILL);
            if (::getppid() != parent)
                ::_exit(127);
            ::dup2(log_fd, STDOUT_FILENO);
            ::dup2(log_fd, STDERR_FILENO);
            ::execv(path.c_str(), argv.data());
            ::_exit(127);
        }
        ::close(log_fd);
        pid_ = pid;
        return true;
    }

    pid_t pid() const noexcept { return pid_; }

    // True while the child has not exited (reaps it if it has).
    bool alive() {
        if (pid_ <= 0)
            return false;
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            exit_status_ = status;
            pid_ = -1;
            return false;
        }
        return true;
    }

    // SIGTERM, waits up to `limit` for the exit, then SIGKILL and reaps. Returns whether the
    // child ended on SIGTERM within the limit. Idempotent.
    bool stop(std::chrono::milliseconds limit) {
        if (pid_ <= 0)
            return true;
        ::kill(pid_, SIGTERM);
        const auto end = std::chrono::steady_clock::now() + limit;
        int status = 0;
        while (std::chrono::steady_clock::now() < end) {
            const pid_t r = ::waitpid(pid_, &status, WNOHANG);
            if (r == pid_) {
                exit_status_ = status;
                pid_ = -1;
                return true;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
        ::kill(pid_, SIGKILL);
        while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
        }
        exit_status_ = status;
        pid_ = -1;
        return false;
    }

    std::optional<int> exit_status() const { return exit_status_; }

private:
    pid_t pid_ = -1;
    std::optional<int> exit_status_;
};

inline double ms_between(time_point a, time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

} // namespace heartbeat::test::client_support
