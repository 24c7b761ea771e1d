#include "peer_chaos.hpp"

#include <algorithm>
#include <cstdio>

namespace soak {

peer_chaos::peer_chaos(std::vector<std::unique_ptr<peer_process>>& peers, std::string peer_path,
                       std::vector<std::string> peer_args, chaos_options options,
                       std::chrono::steady_clock::time_point start)
    : peers_(peers), path_(std::move(peer_path)), args_(std::move(peer_args)), options_(options),
      start_(start), rng_(options.seed), down_(peers.size()) {
    for (std::size_t i = 0; i < peers_.size(); ++i)
        order_.push_back(i);
    std::shuffle(order_.begin(), order_.end(), rng_);
}

double peer_chaos::now_s() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::vector<unsigned> peer_chaos::faults_per_peer() const {
    std::vector<unsigned> out(peers_.size(), 0);
    for (const auto& f : faults_)
        ++out[static_cast<std::size_t>(f.peer)];
    return out;
}

int peer_chaos::next_victim() {
    for (std::size_t tried = 0; tried < order_.size(); ++tried) {
        if (order_pos_ == order_.size()) {
            std::shuffle(order_.begin(), order_.end(), rng_);
            order_pos_ = 0;
        }
        const std::size_t p = order_[order_pos_++];
        if (!down_[p].down)
            return static_cast<int>(p);
    }
    return -1;
}

bool peer_chaos::restart(std::size_t p) {
    const unsigned short port = peers_[p]->port();
    peers_[p]->kill_and_reap();
    // The old port can only be refused if another process took it meanwhile: retry a little.
    for (int attempt = 0; attempt < 3; ++attempt)
        if (peers_[p]->start(path_, port, args_))
            return true;
    ++restart_failures_;
    std::fprintf(stderr, "hb_soak: peer%zu could not be restarted on port %u\n", p,
                 static_cast<unsigned>(port));
    return false;
}

void peer_chaos::inject() {
    const int victim = next_victim();
    if (victim < 0)
        return;
    const auto p = static_cast<std::size_t>(victim);
    std::uniform_real_distribution<double> coin(0.0, 1.0);
    fault_record f;
    f.peer = victim;
    f.start_s = now_s();
    if (coin(rng_) < options_.freeze_share) {
        f.kind = fault_kind::freeze;
        if (!peers_[p]->freeze())
            return;
        down_[p].until_s = f.start_s + std::chrono::duration<double>(options_.freeze).count();
    } else {
        f.kind = fault_kind::kill;
        peers_[p]->kill_and_reap();
        std::uniform_int_distribution<long> down(options_.min_down.count(),
                                                 options_.max_down.count());
        down_[p].until_s = f.start_s + static_cast<double>(down(rng_)) / 1000.0;
    }
    down_[p].down = true;
    down_[p].fault = faults_.size();
    faults_.push_back(f);
}

void peer_chaos::tick(bool inject_faults) {
    const double now = now_s();
    for (std::size_t p = 0; p < peers_.size(); ++p) {
        auto& d = down_[p];
        if (d.down && now >= d.until_s) {
            auto& f = faults_[d.fault];
            const bool ok = f.kind == fault_kind::freeze ? peers_[p]->thaw() : restart(p);
            if (ok) {
                f.end_s = now_s();
                d.down = false;
            }
        } else if (!d.down && peers_[p]->exited_unexpectedly()) {
            ++unexpected_exits_;
            std::fprintf(stderr, "hb_soak: peer%zu exited on its own; restarting it\n", p);
            restart(p);
        }
    }
    if (!inject_faults)
        return;
    std::uniform_int_distribution<long> gap(options_.min_gap.count(), options_.max_gap.count());
    if (next_fault_s_ < 0)
        next_fault_s_ = now + static_cast<double>(gap(rng_)) / 1000.0;
    if (now >= next_fault_s_) {
        inject();
        next_fault_s_ = now_s() + static_cast<double>(gap(rng_)) / 1000.0;
    }
}

bool peer_chaos::heal_all() {
    bool ok = true;
    for (std::size_t p = 0; p < peers_.size(); ++p) {
        auto& d = down_[p];
        if (!d.down)
            continue;
        auto& f = faults_[d.fault];
        if (f.kind == fault_kind::freeze ? peers_[p]->thaw() : restart(p)) {
            f.end_s = now_s();
            d.down = false;
        } else {
            ok = false;
        }
    }
    return ok;
}

} // namespace soak
