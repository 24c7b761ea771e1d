#pragma once
// The fuzz targets' assertion: unlike assert() it stays on in release builds, and it names the
// broken invariant before aborting, so libFuzzer keeps the input and the report says why.
#include <cstdio>
#include <cstdlib>

#define HEARTBEAT_FUZZ_CHECK(condition)                                                            \
    do {                                                                                           \
        if (!(condition)) {                                                                        \
            std::fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", __FILE__, __LINE__,         \
                         #condition);                                                              \
            std::abort();                                                                          \
        }                                                                                          \
    } while (false)
