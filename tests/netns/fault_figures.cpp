#include "fault_figures.hpp"

#include <gtest/gtest.h>

#include <cstdio>
#include <mutex>
#include <vector>

namespace heartbeat::netns {

namespace {

std::mutex table_mutex;
std::vector<fault_figures> table;

void print_header() {
    std::printf("| fault | ending | silence / budget (ms) | fault → ending (ms) | recovery | "
                "recovery (ms) | sent | delivered | duplicated | lost | resent |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|\n");
}

void print_row(const fault_figures& f) {
    char silence[64];
    if (f.silent_ms)
        std::snprintf(silence, sizeof silence, "%lld / %d (%.3f×)",
                      static_cast<long long>(*f.silent_ms), f.budget_ms,
                      static_cast<double>(*f.silent_ms) / f.budget_ms);
    else
        std::snprintf(silence, sizeof silence, "— / %d", f.budget_ms);
    std::printf(
        "| %s | %s | %s | %lld | %s | %lld | %lld | %lld | %lld | %lld | %lld |\n", f.fault.c_str(),
        f.ending.c_str(), silence, static_cast<long long>(f.fault_to_ending_ms), f.recovery.c_str(),
        static_cast<long long>(f.recovery_ms), static_cast<long long>(f.delivery.sent),
        static_cast<long long>(f.delivery.delivered), static_cast<long long>(f.delivery.duplicated),
        static_cast<long long>(f.delivery.lost), static_cast<long long>(f.delivery.resent));
}

class figures_printer : public ::testing::Environment {
public:
    void TearDown() override {
        std::lock_guard lock(table_mutex);
        if (table.empty())
            return;
        std::printf("\n== namespace fault figures ==\n");
        print_header();
        for (const auto& f : table)
            print_row(f);
        std::fflush(stdout);
    }
};

[[maybe_unused]] const auto* registered = ::testing::AddGlobalTestEnvironment(new figures_printer);

} // namespace

void record_figures(const fault_figures& f) {
    std::lock_guard lock(table_mutex);
    table.push_back(f);
    print_header();
    print_row(f);
    std::fflush(stdout);
}

} // namespace heartbeat::netns
