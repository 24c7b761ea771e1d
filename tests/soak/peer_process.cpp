#include "peer_process.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace soak {

bool peer_process::start(const std::string& path, unsigned short port,
                         const std::vector<std::string>& args, std::chrono::milliseconds limit) {
    kill_and_reap();
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0)
        return false;
    std::vector<std::string> argv_storage{path, std::to_string(port)};
    argv_storage.insert(argv_storage.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_storage)
        argv.push_back(a.data());
    argv.push_back(nullptr);
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        ::close(fds[0]);
        ::close(fds[1]);
        return false;
    }
    if (pid == 0) {
        // Child: async-signal-safe calls only.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent)
            ::_exit(127);
        ::dup2(fds[1], STDOUT_FILENO);
        ::execv(path.c_str(), argv.data());
        ::_exit(127);
    }
    ::close(fds[1]);
    pid_ = pid;
    frozen_ = false;
    std::string line;
    const auto end = std::chrono::steady_clock::now() + limit;
    while (line.find('\n') == std::string::npos) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            end - std::chrono::steady_clock::now());
        if (left <= std::chrono::milliseconds::zero())
            break;
        pollfd p{fds[0], POLLIN, 0};
        const int r = ::poll(&p, 1, static_cast<int>(left.count()));
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        char buf[64];
        const ssize_t n = ::read(fds[0], buf, sizeof buf);
        if (n <= 0)
            break;
        line.append(buf, static_cast<std::size_t>(n));
    }
    ::close(fds[0]);
    const int got = std::atoi(line.c_str());
    if (line.find('\n') == std::string::npos || got <= 0 || got > 65535 ||
        (port != 0 && got != port)) {
        kill_and_reap();
        return false;
    }
    port_ = static_cast<unsigned short>(got);
    return true;
}

bool peer_process::freeze() {
    if (pid_ <= 0 || frozen_ || ::kill(pid_, SIGSTOP) != 0)
        return false;
    int status = 0;
    pid_t r;
    while ((r = ::waitpid(pid_, &status, WUNTRACED)) < 0 && errno == EINTR) {
    }
    frozen_ = r == pid_ && WIFSTOPPED(status);
    return frozen_;
}

bool peer_process::thaw() {
    if (pid_ <= 0 || !frozen_)
        return false;
    frozen_ = false;
    return ::kill(pid_, SIGCONT) == 0;
}

void peer_process::kill_and_reap() {
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGKILL); // works on a stopped child too
    int status = 0;
    while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    pid_ = -1;
    frozen_ = false;
}

bool peer_process::exited_unexpectedly() {
    if (pid_ <= 0)
        return false;
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) != pid_)
        return false;
    pid_ = -1;
    frozen_ = false;
    return true;
}

std::size_t rss_bytes(pid_t pid) {
    const std::string path =
        pid == 0 ? std::string("/proc/self/statm") : "/proc/" + std::to_string(pid) + "/statm";
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (!f)
        return 0;
    unsigned long size = 0, resident = 0;
    const int n = std::fscanf(f, "%lu %lu", &size, &resident);
    std::fclose(f);
    if (n != 2)
        return 0;
    return static_cast<std::size_t>(resident) * static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
}

} // namespace soak
