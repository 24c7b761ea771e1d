#pragma once
// Every namespace test starts here: skip (with the reason) when this process cannot create
// namespaces, and clear what a crashed earlier run left behind.
#include "netns_lab.hpp"

#include <gtest/gtest.h>

namespace heartbeat::netns {

class NetnsTest : public ::testing::Test {
protected:
    void SetUp() override {
        static const std::string why_not = netns_lab::why_no_namespaces();
        if (!why_not.empty())
            GTEST_SKIP() << "namespace fault tests skipped: " << why_not;
        netns_lab::remove_stale();
    }
};

} // namespace heartbeat::netns
