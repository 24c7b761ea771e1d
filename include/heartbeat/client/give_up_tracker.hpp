#pragma once
// When the client supervisor stops trying, sans-io: the give-up rule (client_config::give_up)
// and the endings reconnecting cannot cure (heartbeat::is_fatal).
//
//  * invalid_config: our own configuration is wrong and no endpoint will do better: at once.
//  * Any other fatal ending (unsupported_version, incompatible_interval, authentication_failed,
//    not_authorized, client_id_rejected, ...): another endpoint may speak our version or know
//    our credentials, so only once as many attempts in a row as there are endpoints ended so.
//  * give_up.max_attempts: that many failed attempts in a row (a connect that failed, or a
//    session that ended before its handshake) since the last established session.
//  * give_up.max_downtime: an attempt failed that long after the last established session
//    ended (or after the start). Both give up with error::all_endpoints_failed.
#include <heartbeat/client/client_config.hpp>
#include <heartbeat/core/clock.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <optional>

namespace heartbeat {

class give_up_tracker {
public:
    give_up_tracker(give_up_rule rule, std::size_t endpoint_count) noexcept;

    // The run starts at `now`: the downtime counts from here.
    void start(time_point now) noexcept;

    // An attempt ended at `now` with `reason`: a connect that failed (established = false), or a
    // session that ended (established: it completed its handshake). Returns the reason to give
    // up with, or nullopt to go on.
    std::optional<boost::system::error_code>
    on_attempt_ended(const boost::system::error_code& reason, bool established, time_point now);

    // The supervisor closed the session itself at `now` to fail back. An established session
    // breaks every streak of failures; one closed before its handshake leaves them as they are.
    void on_failback(bool established, time_point now) noexcept;

    unsigned failed_in_a_row() const noexcept { return failed_in_a_row_; }
    std::size_t fatal_in_a_row() const noexcept { return fatal_in_a_row_; }
    time_point without_session_since() const noexcept { return without_session_since_; }

private:
    void on_session_ended(time_point now) noexcept;

    give_up_rule rule_;
    std::size_t endpoint_count_;
    unsigned failed_in_a_row_ = 0;
    std::size_t fatal_in_a_row_ = 0;
    time_point without_session_since_{};
};

} // namespace heartbeat
