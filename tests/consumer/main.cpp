// Proves an installed heartbeat is usable through find_package: uses the core and the error
// category, and exits non-zero if either misbehaves.
#include <heartbeat/core/config.hpp>
#include <heartbeat/core/error.hpp>

#include <cstdio>

int main() {
    heartbeat::monitor_config config;
    if (heartbeat::validate(config)) {
        std::puts("default config rejected");
        return 1;
    }
    config.interval = heartbeat::duration::zero();
    auto problem = heartbeat::validate(config);
    if (!problem || problem->field != "monitor_config.interval") {
        std::puts("zero interval accepted");
        return 1;
    }
    boost::system::error_code ec = heartbeat::error::peer_dead;
    std::printf("%s: %s\n", problem->message().c_str(), ec.message().c_str());
    return ec == heartbeat::error::peer_dead ? 0 : 1;
}
