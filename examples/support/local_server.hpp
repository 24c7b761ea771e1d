#pragma once
// For the examples only: starts a real server program (redis-server, mosquitto) on a free
// loopback port, so an example runs on its own. Not part of the library.
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace example {

// The exit status ctest reports as "skipped" (SKIP_RETURN_CODE).
inline constexpr int skipped = 77;

inline std::optional<std::string> find_program(const std::string& name) {
    for (const char* dir : {"/usr/bin", "/usr/sbin", "/usr/local/bin", "/usr/local/sbin"}) {
        const std::string path = std::string(dir) + "/" + name;
        if (::access(path.c_str(), X_OK) == 0)
            return path;
    }
    return std::nullopt;
}

inline unsigned short free_port() {
    boost::asio::io_context ioc;
    boost::asio::ip::tcp::acceptor a(
        ioc, {boost::asio::ip::make_address("127.0.0.1"), static_cast<unsigned short>(0)});
    return a.local_endpoint().port();
}

// A private directory for a server's files (a replica writes the primary's snapshot to disk),
// removed with everything in it when this goes away.
class scratch_dir {
public:
    scratch_dir() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "heartbeat-example-XXXXXX").string();
        if (::mkdtemp(pattern.data()) != nullptr)
            path_ = pattern;
    }
    ~scratch_dir() {
        std::error_code ignored;
        if (!path_.empty())
            std::filesystem::remove_all(path_, ignored);
    }
    scratch_dir(const scratch_dir&) = delete;
    scratch_dir& operator=(const scratch_dir&) = delete;
    const std::string& path() const noexcept { return path_; }

private:
    std::string path_;
};

// A child process listening on 127.0.0.1:port; killed and reaped when this goes away.
class local_server {
public:
    // argv[0] is the program's path; its output is discarded.
    local_server(std::vector<std::string> argv, unsigned short port) : port_(port) {
        std::vector<char*> args;
        for (auto& a : argv)
            args.push_back(a.data());
        args.push_back(nullptr);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::prctl(PR_SET_PDEATHSIG, SIGKILL); // never outlives the example
            const int null = ::open("/dev/null", O_WRONLY);
            ::dup2(null, STDOUT_FILENO);
            ::dup2(null, STDERR_FILENO);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        for (int i = 0; i < 500 && !accepts(); ++i) // up to 5 s
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    ~local_server() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    local_server(const local_server&) = delete;
    local_server& operator=(const local_server&) = delete;

    bool accepts() const {
        boost::asio::io_context ioc;
        boost::asio::ip::tcp::socket s(ioc);
        boost::system::error_code ec;
        s.connect({boost::asio::ip::make_address("127.0.0.1"), port_}, ec);
        return !ec;
    }
    unsigned short port() const noexcept { return port_; }
    void freeze() const { ::kill(pid_, SIGSTOP); } // a host that hangs: no FIN, no RST
    void thaw() const { ::kill(pid_, SIGCONT); }

private:
    pid_t pid_ = -1;
    unsigned short port_;
};

} // namespace example
