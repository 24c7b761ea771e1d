#include "netns_lab.hpp"

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <unistd.h>

namespace heartbeat::netns {

namespace {

constexpr const char* name_prefix = "hbnt-";

std::atomic<unsigned> labs_made{0};

bool process_alive(long pid) {
    return ::kill(static_cast<pid_t>(pid), 0) == 0 || errno == EPERM;
}

} // namespace

int shell(const std::string& command, std::string* output) {
    const std::string full = "(" + command + ") 2>&1";
    FILE* pipe = ::popen(full.c_str(), "r");
    if (!pipe)
        return -1;
    std::array<char, 4096> buffer;
    std::size_t n;
    while ((n = std::fread(buffer.data(), 1, buffer.size(), pipe)) > 0)
        if (output)
            output->append(buffer.data(), n);
    const int status = ::pclose(pipe);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void must(const std::string& command) {
    std::string output;
    if (const int status = shell(command, &output); status != 0)
        throw std::runtime_error("command failed (status " + std::to_string(status) +
                                 "): " + command + "\n" + output);
}

std::string netns_lab::why_no_namespaces() {
    const std::string probe = name_prefix + std::to_string(::getpid()) + "-probe";
    std::string output;
    if (shell("ip netns add " + probe, &output) != 0)
        return "cannot create a network namespace (needs root or CAP_SYS_ADMIN + "
               "CAP_NET_ADMIN): " +
               output;
    std::string iptables_output;
    const int iptables = shell("ip netns exec " + probe + " iptables -L -n", &iptables_output);
    shell("ip netns del " + probe);
    if (iptables != 0)
        return "iptables does not work inside a namespace: " + iptables_output;
    return {};
}

void netns_lab::remove_stale() {
    std::string list;
    shell("ip netns list", &list);
    std::istringstream lines(list);
    for (std::string line; std::getline(lines, line);) {
        const std::string name = line.substr(0, line.find(' '));
        if (name.rfind(name_prefix, 0) != 0)
            continue;
        const std::string rest = name.substr(std::string(name_prefix).size());
        const long pid = std::strtol(rest.c_str(), nullptr, 10);
        if (pid > 0 && !process_alive(pid))
            shell("ip netns del " + name);
    }
}

netns_lab::netns_lab() : index_(labs_made++) {
    prefix_ = name_prefix + std::to_string(::getpid()) + "-" + std::to_string(index_);
}

netns_lab::~netns_lab() {
    for (auto it = namespaces_.rbegin(); it != namespaces_.rend(); ++it)
        shell("ip netns del " + *it);
}

std::string netns_lab::add_namespace(const std::string& role) {
    const std::string name = prefix_ + "-" + role;
    must("ip netns add " + name);
    namespaces_.push_back(name);
    must("ip -n " + name + " link set lo up");
    return name;
}

std::pair<std::string, std::string> netns_lab::link(const std::string& a, const std::string& a_cidr,
                                                    const std::string& b,
                                                    const std::string& b_cidr) {
    // Created straight inside the namespaces, so the names never exist in ours.
    const std::string base = "v" + std::to_string(::getpid()) + std::to_string(index_) +
                             static_cast<char>('a' + links_++);
    const std::string a_if = base + "0", b_if = base + "1";
    must("ip link add " + a_if + " netns " + a + " type veth peer name " + b_if + " netns " + b);
    must("ip -n " + a + " addr add " + a_cidr + " dev " + a_if);
    must("ip -n " + b + " addr add " + b_cidr + " dev " + b_if);
    must("ip -n " + a + " link set " + a_if + " up");
    must("ip -n " + b + " link set " + b_if + " up");
    return {a_if, b_if};
}

void netns_lab::run_in(const std::string& ns, const std::string& command) {
    must("ip netns exec " + ns + " " + command);
}

int netns_lab::try_in(const std::string& ns, const std::string& command, std::string* output) {
    return shell("ip netns exec " + ns + " " + command, output);
}

} // namespace heartbeat::netns
