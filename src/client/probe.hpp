#pragma once
// A failback probe: a heartbeat-only connection to a more preferred endpoint, healthy when the
// endpoint answers a ping in time. The supervisor machine decides when to probe which endpoint
// and what the results mean; this only performs one probe.
#include <heartbeat/core/clock.hpp>
#include <heartbeat/client/supervised_session.hpp>
#include <heartbeat/client/endpoint.hpp>
#include <heartbeat/protocol/native/session_config.hpp>

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>

namespace heartbeat::detail {

// The client's session config made a probe's: no session id, pings every 50 ms at most and
// without jitter, the pong and the handshake within `probe_timeout`, no TCP keepalive.
session_config probe_config(const session_config& base, duration probe_timeout);

// Connects to `ep` with `config` (see probe_config) and reports whether a pong came back within
// `probe_timeout` of the connection; then closes the session and waits for its end. Runs on
// `strand`; every argument is taken by value, so the caller's may go away meanwhile.
boost::asio::awaitable<bool> probe_endpoint(boost::asio::any_io_executor strand, endpoint ep,
                                            session_config config, duration probe_timeout,
                                            connect_options options);

} // namespace heartbeat::detail
