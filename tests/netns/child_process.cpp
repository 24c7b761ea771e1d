#include "child_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <stdexcept>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace heartbeat::netns {

child_process::child_process(const std::string& ns, std::vector<std::string> argv)
    : name_(argv.empty() ? std::string("?") : argv.front()) {
    std::vector<std::string> full = {"ip", "netns", "exec", ns};
    full.insert(full.end(), argv.begin(), argv.end());
    std::vector<char*> args;
    for (auto& a : full)
        args.push_back(a.data());
    args.push_back(nullptr);

    int out[2];
    if (::pipe2(out, O_CLOEXEC) != 0)
        throw std::runtime_error(std::string("pipe: ") + std::strerror(errno));
    const pid_t parent = ::getpid();
    pid_ = ::fork();
    if (pid_ < 0) {
        ::close(out[0]);
        ::close(out[1]);
        throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    }
    if (pid_ == 0) {
        // Only async-signal-safe calls from here on.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent)
            ::_exit(127); // the test died between fork and prctl
        ::dup2(out[1], STDOUT_FILENO);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    ::close(out[1]);
    reader_ = std::thread([this, fd = out[0]] { read_output(fd); });
}

child_process::~child_process() {
    signal(SIGKILL);
    wait_exit(std::chrono::seconds(10));
    if (reader_.joinable())
        reader_.join(); // the pipe closes when the child (its only writer) is gone
}

void child_process::read_output(int fd) {
    std::string pending;
    char buffer[4096];
    for (;;) {
        const ssize_t n = ::read(fd, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        const auto now = steady::now();
        pending.append(buffer, static_cast<std::size_t>(n));
        std::size_t start = 0;
        std::lock_guard lock(mutex_);
        for (std::size_t eol; (eol = pending.find('\n', start)) != std::string::npos;
             start = eol + 1)
            lines_.push_back({now, pending.substr(start, eol - start)});
        pending.erase(0, start);
        changed_.notify_all();
    }
    ::close(fd);
    std::lock_guard lock(mutex_);
    output_ended_ = true;
    changed_.notify_all();
}

void child_process::signal(int signo) {
    if (pid_ > 0 && !reaped_)
        ::kill(pid_, signo);
}

std::optional<int> child_process::wait_exit(steady::duration limit) {
    if (pid_ <= 0)
        return std::nullopt;
    const auto until = steady::now() + limit;
    while (!reaped_) {
        int status = 0;
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) {
            reaped_ = true;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        if (r < 0 || steady::now() >= until)
            return std::nullopt;
        std::unique_lock lock(mutex_); // wake early when the output ends (the child is exiting)
        changed_.wait_for(lock, std::chrono::milliseconds(10));
    }
    return std::nullopt;
}

std::optional<std::size_t>
child_process::wait_line(const std::function<bool(const std::string&)>& match,
                         steady::duration limit, std::size_t from) {
    const auto until = steady::now() + limit;
    std::unique_lock lock(mutex_);
    for (std::size_t i = from;;) {
        for (; i < lines_.size(); ++i)
            if (match(lines_[i].text))
                return i;
        if (output_ended_)
            return std::nullopt;
        const bool more =
            changed_.wait_until(lock, until, [&] { return output_ended_ || lines_.size() > i; });
        if (!more)
            return std::nullopt;
    }
}

std::vector<output_line> child_process::lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
}

std::size_t child_process::line_count() const {
    std::lock_guard lock(mutex_);
    return lines_.size();
}

} // namespace heartbeat::netns
