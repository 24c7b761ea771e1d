#include "serve_command.hpp"
#include "usage_error.hpp"

#include <gtest/gtest.h>

using namespace heartbeat::cli;

namespace {

std::string protocol_error_of(const std::string& text) {
    try {
        parse_serve_protocol(text);
    } catch (const usage_error& e) {
        return e.what();
    }
    return "";
}

} // namespace

TEST(ServeProtocol, NativeIsTheDefaultAndWsIsAccepted) {
    EXPECT_EQ(serve_args{}.protocol, "native");
    EXPECT_EQ(parse_serve_protocol("native"), serve_protocol::native);
    EXPECT_EQ(parse_serve_protocol("ws"), serve_protocol::ws);
}

TEST(ServeProtocol, AnythingElseNamesTheFlag) {
    EXPECT_EQ(protocol_error_of("wss"), "--protocol: unknown protocol 'wss' (use native or ws)");
    EXPECT_EQ(protocol_error_of("WS"), "--protocol: unknown protocol 'WS' (use native or ws)");
    EXPECT_EQ(protocol_error_of(""), "--protocol: unknown protocol '' (use native or ws)");
}

TEST(ServeProtocol, PingPolicingNeedsTheNativeProtocol) {
    serve_args args;
    args.listen = "127.0.0.1:0";
    args.protocol = "ws";
    args.heartbeat.min_interval = "100ms";
    try {
        run_serve(args);
        FAIL() << "accepted --min-interval with --protocol ws";
    } catch (const usage_error& e) {
        EXPECT_EQ(std::string(e.what()), "--min-interval: ping policing needs --protocol native");
    }
}
