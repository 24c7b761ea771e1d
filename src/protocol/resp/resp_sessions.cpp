// The stock resp sessions, compiled once (one file per profile, so they build in parallel).
#include <heartbeat/protocol/profile_sessions.hpp>
#include <heartbeat/session/stream_session_impl.hpp>

namespace heartbeat {
template class session<stream_link<resp_profile, tcp_stream>>;
template class session<stream_link<resp_profile, tls_stream>>;
} // namespace heartbeat
