#pragma once
// The fault injector of the soak: on the controller thread (never the clients' thread, so a
// slow fork/exec never stalls the clients' event loop), it SIGKILLs or SIGSTOPs the peers in a
// shuffled round-robin order (so in a run of more faults than peers every peer gets at least
// one), restarts killed peers on their old port and thaws frozen ones after a while.
#include "peer_process.hpp"

#include <chrono>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace soak {

enum class fault_kind { kill, freeze };

struct fault_record {
    int peer = -1;
    fault_kind kind = fault_kind::kill;
    double start_s = 0;
    double end_s = -1; // restarted or thawed; -1 while still down
};

struct chaos_options {
    std::chrono::milliseconds min_gap{2000}, max_gap{5000};  // between two faults
    std::chrono::milliseconds min_down{500}, max_down{3000}; // a killed peer's downtime
    std::chrono::milliseconds freeze{6000}; // longer than the silence budget: a real verdict
    double freeze_share = 0.3;
    std::uint64_t seed = 1;
};

class peer_chaos {
public:
    peer_chaos(std::vector<std::unique_ptr<peer_process>>& peers, std::string peer_path,
               std::vector<std::string> peer_args, chaos_options options,
               std::chrono::steady_clock::time_point start);

    // Injects due faults and heals due peers; call every ~100 ms while the fault phase lasts.
    void tick(bool inject);
    // Ends every fault: thaws frozen peers and restarts killed ones (bounded retries).
    bool heal_all();

    const std::vector<fault_record>& faults() const noexcept { return faults_; }
    unsigned unexpected_exits() const noexcept { return unexpected_exits_; }
    unsigned restart_failures() const noexcept { return restart_failures_; }
    std::vector<unsigned> faults_per_peer() const;

private:
    double now_s() const;
    int next_victim();
    void inject();
    bool restart(std::size_t peer);

    struct down_state {
        bool down = false;
        double until_s = 0;
        std::size_t fault = 0; // index in faults_
    };

    std::vector<std::unique_ptr<peer_process>>& peers_;
    std::string path_;
    std::vector<std::string> args_;
    chaos_options options_;
    std::chrono::steady_clock::time_point start_;
    std::mt19937_64 rng_;
    std::vector<std::size_t> order_;
    std::size_t order_pos_ = 0;
    std::vector<down_state> down_;
    std::vector<fault_record> faults_;
    double next_fault_s_ = -1;
    unsigned unexpected_exits_ = 0, restart_failures_ = 0;
};

} // namespace soak
