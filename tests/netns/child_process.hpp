#pragma once
// A program run inside a network namespace (`ip netns exec NS PROGRAM ARGS...`, which execs the
// program, so the PID we hold is the program's). Its stdout is read line by line on a thread of
// its own, each line stamped with when it arrived; stderr goes to ours, for the test log.
// The child dies with us (PR_SET_PDEATHSIG), so a crashed test leaves no process behind; the
// destructor kills it by PID (SIGKILL) and reaps it.
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <sys/types.h>
#include <thread>
#include <vector>

namespace heartbeat::netns {

using steady = std::chrono::steady_clock;

struct output_line {
    steady::time_point at;
    std::string text;
};

class child_process {
public:
    // Starts `argv` in namespace `ns`; throws std::runtime_error if it cannot be started.
    child_process(const std::string& ns, std::vector<std::string> argv);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    pid_t pid() const noexcept { return pid_; }
    // Sends a signal to the child (by PID); a no-op once it was reaped.
    void signal(int signo);
    // Waits up to `limit` for the child to exit and reaps it; its exit status, or nullopt.
    std::optional<int> wait_exit(steady::duration limit);
    // The index of the first line at or after `from` for which `match` holds, waiting up to
    // `limit` for it; nullopt on time-out or when the output ended first.
    std::optional<std::size_t> wait_line(const std::function<bool(const std::string&)>& match,
                                         steady::duration limit, std::size_t from = 0);
    // A copy of every line so far.
    std::vector<output_line> lines() const;
    std::size_t line_count() const;
    const std::string& name() const noexcept { return name_; }

private:
    void read_output(int fd);

    std::string name_;
    pid_t pid_ = -1;
    bool reaped_ = false;
    std::thread reader_;
    mutable std::mutex mutex_;
    std::condition_variable changed_;
    std::vector<output_line> lines_;
    bool output_ended_ = false;
};

} // namespace heartbeat::netns
