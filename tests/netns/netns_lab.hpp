#pragma once
// A throw-away network of namespaces joined by veth pairs, removed when the lab is destroyed
// (deleting a namespace deletes its veth ends and iptables rules). Every name carries this
// process's PID ("hbnt-<pid>-<n>-<role>", veths "v<pid><n><tag>"), so parallel runs never meet,
// and namespaces left by a run that died (its PID gone) are removed by remove_stale().
// Addresses are 10.213.x.y, only ever inside these namespaces.
#include <string>
#include <vector>

namespace heartbeat::netns {

// Runs a shell command; its exit status (stdout and stderr go to `output` when given, else
// nowhere).
int shell(const std::string& command, std::string* output = nullptr);
// Runs a shell command that must succeed; throws std::runtime_error naming it otherwise.
void must(const std::string& command);

class netns_lab {
public:
    netns_lab();
    ~netns_lab();
    netns_lab(const netns_lab&) = delete;
    netns_lab& operator=(const netns_lab&) = delete;

    // Empty when this process may create namespaces (tried for real), else why not.
    static std::string why_no_namespaces();
    // Deletes every "hbnt-<pid>-..." namespace whose process is gone.
    static void remove_stale();

    // Creates a namespace with its loopback up; returns its name.
    std::string add_namespace(const std::string& role);
    // Joins two namespaces by a veth pair, `a_cidr` on a's end and `b_cidr` on b's (e.g.
    // "10.213.1.1/24"); returns the two interface names {a's, b's}.
    std::pair<std::string, std::string> link(const std::string& a, const std::string& a_cidr,
                                             const std::string& b, const std::string& b_cidr);
    // Runs a command inside a namespace; it must succeed.
    void run_in(const std::string& ns, const std::string& command);
    // Same, but returns the exit status and output instead of throwing.
    int try_in(const std::string& ns, const std::string& command, std::string* output = nullptr);

private:
    std::string prefix_;
    std::vector<std::string> namespaces_;
    unsigned index_ = 0; // of this lab among those this process made
    unsigned links_ = 0;
};

} // namespace heartbeat::netns
