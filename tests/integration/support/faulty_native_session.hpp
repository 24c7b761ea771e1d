#pragma once
// The native session over a fault-injecting TCP socket, instantiated once
// (faults/native_session_faults_test.cpp) for every fault test that uses it.
#include "fault_injection_stream.hpp"
#include "test_support.hpp"

#include <heartbeat/protocol/native/native_session.hpp>

namespace heartbeat::test {

using faulty_socket = fault_injection_stream<tcp::socket>;
using faulty_session = basic_session<faulty_socket>;

} // namespace heartbeat::test

extern template class heartbeat::session<
    heartbeat::stream_link<heartbeat::native_profile, heartbeat::test::faulty_socket>>;
