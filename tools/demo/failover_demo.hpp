#pragma once
// `heartbeat demo`: a primary and a backup server and a client streaming numbered messages, in
// one process on loopback. The primary hangs (stops reading and answering, sockets open), the
// client declares it dead, fails over and keeps streaming; the primary recovers and the client
// fails back. Prints a timeline and the delivery count; exit status 0 only if nothing was lost
// or duplicated.
#include <chrono>
#include <iosfwd>

namespace heartbeat::demo {

struct options {
    std::chrono::milliseconds interval{250};
    std::chrono::milliseconds timeout{250};
    unsigned misses = 3;
    std::chrono::milliseconds freeze_at{3000};
    std::chrono::milliseconds recover_at{7000};
    std::chrono::milliseconds stream_for{11000};
    unsigned rate_per_second = 500;
};

int run(const options& opts, std::ostream& out);

} // namespace heartbeat::demo
