#pragma once
// One side of a fault test: drives a session's asynchronous operations (run, send, receive,
// wait_event) and records each one and its completion in an operation_ledger, so the test can
// check afterwards that every one completed exactly once and with a named reason.
#include "operation_ledger.hpp"

#include <heartbeat/session/session_events.hpp>

#include <functional>
#include <string>
#include <utility>

namespace heartbeat::test {

template <class Session>
class session_party {
public:
    using error_code = boost::system::error_code;

    session_party(Session& s, std::string name) : s_(s), name_(std::move(name)) {}

    Session& session() noexcept { return s_; }
    operation_ledger& ledger() noexcept { return ledger_; }
    const operation_ledger& ledger() const noexcept { return ledger_; }
    bool ended() const noexcept { return run_done_; }
    error_code reason() const noexcept { return reason_; }

    void run() {
        const auto id = ledger_.start(name_ + " async_run");
        s_.async_run([this, id](error_code ec) {
            ledger_.complete(id, ec);
            run_done_ = true;
            reason_ = ec;
        });
    }

    // Waits for events one after the other until one completes with an error (the session's
    // end, once its `ended` event was taken); bounded by the session's own end.
    void watch_events(std::function<void(const session_event&)> on_event) {
        on_event_ = std::move(on_event);
        next_event();
    }

    void send(std::string message, std::function<void(error_code)> then = {}) {
        const auto id = ledger_.start(name_ + " async_send");
        s_.async_send(std::move(message), [this, id, then = std::move(then)](error_code ec) {
            ledger_.complete(id, ec);
            if (then)
                then(ec);
        });
    }

    void receive(std::function<void(error_code, std::string)> then) {
        const auto id = ledger_.start(name_ + " async_receive");
        s_.async_receive_message([this, id, then = std::move(then)](error_code ec, auto message) {
            ledger_.complete(id, ec);
            then(ec, std::move(message.payload));
        });
    }

private:
    void next_event() {
        const auto id = ledger_.start(name_ + " async_wait_event");
        s_.async_wait_event([this, id](error_code ec, session_event e) {
            ledger_.complete(id, ec);
            if (ec)
                return;
            if (on_event_)
                on_event_(e);
            next_event();
        });
    }

    Session& s_;
    std::string name_;
    operation_ledger ledger_;
    std::function<void(const session_event&)> on_event_;
    bool run_done_ = false;
    error_code reason_;
};

} // namespace heartbeat::test
