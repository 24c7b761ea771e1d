#include "endpoint_arg.hpp"

#include <gtest/gtest.h>

#include <stdexcept>

using heartbeat::cli::format_host_port;
using heartbeat::cli::parse_host_port;

TEST(EndpointArg, SplitsHostAndPort) {
    const auto a = parse_host_port("127.0.0.1:7000", false);
    EXPECT_EQ(a.host, "127.0.0.1");
    EXPECT_EQ(a.port, 7000);
    const auto b = parse_host_port("example.org:65535", false);
    EXPECT_EQ(b.host, "example.org");
    EXPECT_EQ(b.port, 65535);
}

TEST(EndpointArg, Ipv6LiteralsAreBracketed) {
    const auto a = parse_host_port("[::1]:7000", false);
    EXPECT_EQ(a.host, "::1");
    EXPECT_EQ(a.port, 7000);
    EXPECT_THROW(parse_host_port("::1:7000", false), std::invalid_argument);
    EXPECT_EQ(format_host_port("::1", 7000), "[::1]:7000");
    EXPECT_EQ(format_host_port("10.0.0.1", 80), "10.0.0.1:80");
}

TEST(EndpointArg, PortZeroOnlyWhereAllowed) {
    EXPECT_EQ(parse_host_port("127.0.0.1:0", true).port, 0);
    EXPECT_THROW(parse_host_port("127.0.0.1:0", false), std::invalid_argument);
}

TEST(EndpointArg, RejectsMalformedAddresses) {
    for (const char* bad : {"nonsense", "", ":7000", "host:", "host:65536", "host:-1", "host:7x",
                            "host:123456", "[]:80", "host: 80"})
        EXPECT_THROW(parse_host_port(bad, true), std::invalid_argument) << '"' << bad << '"';
}
