#pragma once
// One hb_soak_peer child process: started with fork+exec so the soak can SIGKILL, SIGSTOP and
// SIGCONT it like a real remote server. It dies with the driver (PR_SET_PDEATHSIG) and the
// destructor always kills and reaps it by PID.
#include <chrono>
#include <string>
#include <vector>

#include <sys/types.h>

namespace soak {

class peer_process {
public:
    peer_process() = default;
    peer_process(const peer_process&) = delete;
    peer_process& operator=(const peer_process&) = delete;
    ~peer_process() { kill_and_reap(); }

    // Starts `path port args...`, waits (bounded) for the port on its first stdout line.
    // `port` 0 lets the kernel choose; otherwise the peer must get exactly that port back.
    bool start(const std::string& path, unsigned short port, const std::vector<std::string>& args,
               std::chrono::milliseconds limit = std::chrono::seconds(20));

    bool running() const noexcept { return pid_ > 0; }
    bool frozen() const noexcept { return frozen_; }
    pid_t pid() const noexcept { return pid_; }
    unsigned short port() const noexcept { return port_; }

    bool freeze(); // SIGSTOP and wait until the kernel reports it stopped
    bool thaw();   // SIGCONT
    void kill_and_reap();
    // True when the child ended on its own (not by us): a crash or a failed bind.
    bool exited_unexpectedly();

private:
    pid_t pid_ = -1;
    unsigned short port_ = 0;
    bool frozen_ = false;
};

// Resident set size in bytes of `pid` (0 = this process), or 0 when it cannot be read.
std::size_t rss_bytes(pid_t pid = 0);

} // namespace soak
