#pragma once
// Judging a soak run: which verdicts were earned by an injected fault, RSS statistics, and
// the summary table.
#include "peer_chaos.hpp"
#include "soak_fleet.hpp"

#include <cstddef>
#include <string>
#include <vector>

namespace soak {

struct rss_sample {
    double at_s = 0;
    std::size_t client = 0;         // bytes
    std::vector<std::size_t> peers; // bytes, 0 while a peer is down
};

struct lag_sample {
    double at_s = 0;
    double lag_s = 0; // how late the clients' loop ran a 100 ms timer
};

// A verdict is earned when its peer was frozen or killed during [at - window, at]
// (window = silence budget + slack), or is still down.
bool verdict_earned(const verdict_record& v, const std::vector<fault_record>& faults,
                    double window_s);

double median(std::vector<double> values);
// Median client RSS over samples with at_s in [from, to).
double median_client_rss(const std::vector<rss_sample>& samples, double from, double to);

double max_lag_in(const std::vector<lag_sample>& lags, double from, double to);

} // namespace soak
