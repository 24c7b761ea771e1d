#pragma once
// How a session reports an injected transport error, as documented: a read that fails with EOF,
// a reset or a truncated TLS stream is the peer closing (peer_closed; truncated_frame when part
// of a frame had arrived; a profile whose handshake was not done yet says handshake_failed);
// a write that fails with a reset, a broken pipe, EOF or (TLS's word for EOF) a truncated stream
// is the peer gone (peer_closed); any other error ends the session with itself.
#include "fault_injection_stream.hpp"

#include <heartbeat/core/error.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/ssl/error.hpp>

#include <algorithm>
#include <vector>

namespace heartbeat::test {

// `hangup_refuses`: the profile calls a hang-up before its handshake a refusal (RESP, MQTT).
inline std::vector<boost::system::error_code>
endings_for(fault_step step, boost::system::error_code injected, bool hangup_refuses = false) {
    namespace e = boost::asio::error;
    if (step == fault_step::read && (injected == e::eof || injected == e::connection_reset ||
                                     injected == boost::asio::ssl::error::stream_truncated)) {
        std::vector<boost::system::error_code> r{error::peer_closed, error::truncated_frame};
        if (hangup_refuses)
            r.push_back(error::handshake_failed);
        return r;
    }
    if (step == fault_step::write &&
        (injected == e::connection_reset || injected == e::broken_pipe || injected == e::eof ||
         injected == boost::asio::ssl::error::stream_truncated))
        return {error::peer_closed};
    return {injected};
}

inline bool one_of(const boost::system::error_code& ec,
                   const std::vector<boost::system::error_code>& allowed) {
    return std::find(allowed.begin(), allowed.end(), ec) != allowed.end();
}

} // namespace heartbeat::test
