#pragma once
// Checks Prometheus exposition text with the real parser: `promtool check metrics` (Debian's
// prometheus package). Tests skip when it is not installed.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>

#include <sys/wait.h>
#include <unistd.h>

namespace heartbeat::test {

inline std::string promtool_path() {
    for (const char* p : {"/usr/bin/promtool", "/usr/local/bin/promtool"})
        if (std::filesystem::exists(p))
            return p;
    return {};
}

struct promtool_result {
    bool accepted = false;
    std::string output; // what promtool printed (parse errors, lint problems)
};

// Runs promtool on `text` (written to a temporary file first); bounded by `timeout 30`.
inline promtool_result promtool_check(const std::string& promtool, const std::string& text) {
    char name[] = "/tmp/hb_metrics_XXXXXX";
    const int fd = ::mkstemp(name);
    if (fd < 0)
        return {false, "mkstemp failed"};
    ::close(fd);
    {
        std::ofstream out(name, std::ios::binary);
        out << text;
    }
    const std::string command = "timeout 30 " + promtool + " check metrics < " + name + " 2>&1";
    promtool_result r;
    if (FILE* p = ::popen(command.c_str(), "r")) {
        char buf[512];
        while (std::fgets(buf, sizeof buf, p))
            r.output += buf;
        const int status = ::pclose(p);
        r.accepted = WIFEXITED(status) && WEXITSTATUS(status) == 0;
    }
    std::filesystem::remove(name);
    return r;
}

} // namespace heartbeat::test
