#pragma once
// heartbeat::client's state and its driver: it feeds the supervisor machine
// (core/supervisor_fsm.hpp) what happens and performs, one asynchronous operation each, the
// actions it returns: connects, sessions, the one timer, probes, drains, events. It holds no
// policy. Besides, it keeps what the public API needs: the resend buffer and the sends waiting
// for room in it, the messages and events not yet taken, the stats.
//
// Everything here runs on `strand`, except stats() (under stats_mutex).
#include "resend_buffer.hpp"

#include <heartbeat/client/client.hpp>
#include <heartbeat/client/supervised_session.hpp>
#include <heartbeat/client/supervisor_fsm.hpp>
#include <heartbeat/detail/context_shutdown_service.hpp>
#include <heartbeat/metrics/registry.hpp>

#include <boost/asio/steady_timer.hpp>

#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

namespace heartbeat {

struct client::impl : std::enable_shared_from_this<impl> {
    impl(executor_type ex, std::vector<endpoint> eps, client_config cfg, client_event_callback cb);
    ~impl();
    impl(const impl&) = delete;
    impl& operator=(const impl&) = delete;

    // --- what the public API uses ----------------------------------------------------------

    // Runs the machine on `in` and performs its actions. Inputs that arrive while actions are
    // being performed (an event callback that calls close(), a session callback) wait their
    // turn, so the machine sees them in order and never re-entered.
    void feed(supervisor::input in);
    void begin_run(run_handler h);
    // The run is over: async_run and whatever waits for room in the buffer or for a message
    // complete with `reason`.
    void finish(boost::system::error_code reason);
    // The run cannot even start (an invalid config): a gave_up event naming `reason`, then
    // finish, as for every ending the supervisor gives up on.
    void give_up_before_start(boost::system::error_code reason);
    bool stopping() const noexcept { return ended || fsm.stop_reason(); }

    // Resend buffer and the sends waiting for room in it.
    void accept(std::string payload, send_handler h);
    void admit_waiters();
    void fail_waiters(boost::system::error_code reason);

    boost::asio::any_io_executor strand;
    const std::vector<endpoint> endpoints;
    client_config config;
    const client_event_callback on_event;
    const std::uint64_t id;
    supervisor_fsm fsm;

    bool run_started = false;
    bool ended = false;
    boost::system::error_code end_reason;

    detail::resend_buffer outbox;
    struct waiting_send {
        std::string payload;
        send_handler handler;
        std::uint64_t ticket;
    };
    std::deque<waiting_send> send_waiters;
    std::uint64_t next_ticket = 1;

    std::deque<received_message> inbox;
    std::optional<receive_handler> pending_receive;

    std::deque<client_event> events;
    std::optional<event_handler> pending_event;

    mutable std::mutex stats_mutex;
    client_stats counters;

    // Metrics series per endpoint and their labels (same order as `endpoints`); empty when
    // metrics are off.
    std::vector<metrics::series*> endpoint_series;
    std::vector<std::shared_ptr<const metrics::series_labels>> endpoint_labels;
    bool first_attempt_seen = false; // later `connecting` events count as reconnects

private:
    void perform(supervisor::action& a);
    void emit(client_event e);
    // client_observability.cpp
    void register_endpoint_series();
    void observe(const client_event& e);
    metrics::series* series_of(const std::string& endpoint_label) const noexcept;
    template <class F>
    void update_stats(F&& f) {
        std::lock_guard lock(stats_mutex);
        f(counters);
    }
    void publish_machine_counters();

    // Sessions.
    std::pair<session_config, session_callbacks> session_setup(std::size_t idx);
    detail::connect_options dial_options() const;
    void connect(std::size_t idx);
    void start_session();
    void on_session_end(const std::shared_ptr<detail::supervised_session>& s,
                        boost::system::error_code reason);
    // What a session's stored handlers hold it through (see start_session).
    using session_anchor = std::shared_ptr<std::shared_ptr<detail::supervised_session>>;
    void forward_messages(session_anchor anchor);
    void hand_to_session(detail::resend_buffer::message& m);
    void on_ack(std::uint64_t seq);
    void report_if_drained();
    void start_probe(std::size_t idx, std::uint64_t probe);
    void arm_timer(time_point deadline);
    // An exception escaped our own code: end the run with asio::error::fault.
    void abandon();
    // The execution context shuts down with the run pending: drop the sessions and handlers
    // that own this impl (detail/context_shutdown_service.hpp), destroying, not invoking, them.
    void drop_at_shutdown();

    std::deque<supervisor::input> inputs;
    bool feeding = false;
    std::optional<run_handler> run_completion;
    std::optional<std::size_t> published_endpoint;

    std::shared_ptr<detail::connect_attempt> in_flight;    // the connect in progress
    std::shared_ptr<detail::supervised_session> connected; // connected, not yet running
    std::shared_ptr<detail::supervised_session> session;   // running
    std::vector<std::weak_ptr<std::shared_ptr<detail::supervised_session>>> session_anchors;
    std::uint64_t session_generation = 0; // callbacks of earlier sessions are ignored
    bool feed_session = false;            // new messages go to the running session
    bool awaiting_drain = false;          // drain_and_switch: report once drained
    boost::asio::steady_timer timer;
    std::uint64_t timer_generation = 0;                          // waits replaced since are ignored
    detail::context_shutdown_registration shutdown_registration; // made by begin_run
};

} // namespace heartbeat
