#pragma once
// The session callbacks of one peer, forwarding to the server's callbacks with the peer's info.
// They hold the server and the peer weakly: the server owns its peers and each peer its session,
// so strong references would be a cycle that outlives the io_context.
#include <heartbeat/server/server_types.hpp>
#include <heartbeat/session/session_events.hpp>

#include <memory>

namespace heartbeat::detail {

// Server: a type with a `const server_callbacks& callbacks() const` member; Peer: a struct with
// a `peer_info info` member. Only the callbacks the application set are installed, so a session
// without them does no work for them.
template <class Server, class Peer>
session_callbacks peer_session_callbacks(const server_callbacks& callbacks,
                                         std::weak_ptr<Server> server, std::weak_ptr<Peer> peer) {
    session_callbacks out;
    if (callbacks.on_peer_state)
        out.on_state_change = [server, peer](peer_state from, peer_state to, unsigned missed) {
            auto s = server.lock();
            auto p = peer.lock();
            if (s && p)
                s->callbacks().on_peer_state(p->info, from, to, missed);
        };
    if (callbacks.on_peer_rtt)
        out.on_rtt = [server, peer](duration rtt, const rtt_estimator& est) {
            auto s = server.lock();
            auto p = peer.lock();
            if (s && p)
                s->callbacks().on_peer_rtt(p->info, rtt, est.srtt());
        };
    if (callbacks.on_peer_dead)
        out.on_verdict = [server, peer](const verdict& v) {
            auto s = server.lock();
            auto p = peer.lock();
            if (s && p)
                s->callbacks().on_peer_dead(p->info, v);
        };
    return out;
}

} // namespace heartbeat::detail
