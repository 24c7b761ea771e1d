#pragma once
// The heartbeat interval two native peers agree on (HELLO): each side advertises the range of
// intervals it accepts from the other (min: ping policing; max: how long it tolerates silence,
// 0 = no limit). We keep our own interval when the peer accepts it, slow down to the peer's
// floor, speed up to its ceiling, and never go below its floor. Nor above our own cap: a peer
// that could slow us down at will would stretch our detection budget with it (an interval of
// hours means hours to notice it died). Sans-io.
#include <heartbeat/core/clock.hpp>
#include <heartbeat/core/error.hpp>

#include <boost/system/error_code.hpp>

#include <algorithm>

namespace heartbeat {

struct negotiated_interval {
    duration interval{};
    boost::system::error_code ec; // incompatible_interval when the peer's range is empty
};

// peer_max zero: the peer sets no ceiling. our_max zero: we set none (only for tests of the
// peer's side; sessions go through accept_hello, protocol/native/hello_rules.hpp).
inline negotiated_interval negotiate_interval(duration ours, duration peer_min, duration peer_max,
                                              duration our_max = duration::zero()) noexcept {
    if (peer_max != duration::zero() && peer_min > peer_max)
        return {ours, error::incompatible_interval};
    if (our_max != duration::zero() && peer_min > our_max)
        return {ours, error::incompatible_interval};
    duration interval = std::max(ours, peer_min);
    if (peer_max != duration::zero() && interval > peer_max)
        interval = std::max(peer_max, peer_min); // faster than we wanted, not below its floor
    return {interval, {}};
}

} // namespace heartbeat
