#include "soak_report.hpp"

#include <algorithm>

namespace soak {

bool verdict_earned(const verdict_record& v, const std::vector<fault_record>& faults,
                    double window_s) {
    for (const auto& f : faults) {
        if (f.peer != v.peer)
            continue;
        const double end = f.end_s < 0 ? 1e300 : f.end_s;
        if (f.start_s <= v.at_s && v.at_s <= end + window_s)
            return true;
    }
    return false;
}

double median(std::vector<double> values) {
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    const std::size_t n = values.size();
    return n % 2 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
}

double median_client_rss(const std::vector<rss_sample>& samples, double from, double to) {
    std::vector<double> v;
    for (const auto& s : samples)
        if (s.at_s >= from && s.at_s < to)
            v.push_back(static_cast<double>(s.client));
    return median(std::move(v));
}

double max_lag_in(const std::vector<lag_sample>& lags, double from, double to) {
    double m = 0;
    for (const auto& l : lags)
        if (l.at_s >= from && l.at_s <= to)
            m = std::max(m, l.lag_s);
    return m;
}

} // namespace soak
