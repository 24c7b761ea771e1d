#pragma once
// How sessions and the client complete the operations they store: never inline, and with a
// cancellable "parked" state shared by every receive and wait-event operation.
#include <boost/asio/append.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/post.hpp>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <optional>
#include <utility>

namespace heartbeat::detail {

// Why a session ends when its own code threw `ep`: a system_error's code (an application
// callback may throw one on purpose), anything else is asio::error::fault.
inline boost::system::error_code error_of(std::exception_ptr ep) noexcept {
    try {
        std::rethrow_exception(ep);
    } catch (const boost::system::system_error& e) {
        return e.code();
    } catch (...) {
        return boost::asio::error::fault;
    }
}

// Runs a step of the session that reports why the session must end, or {}. A step may call the
// application's callbacks (on_rtt, on_state_change, on_verdict...): whatever one of them throws
// ends the session too, with error_of's code, on every path that runs callbacks.
template <class Step>
boost::system::error_code error_of_step(Step&& step) noexcept {
    try {
        return step();
    } catch (...) {
        return error_of(std::current_exception());
    }
}

// Completes a stored handler through its own associated executor, never inline: posting to our
// executor first guarantees that; asio then dispatches to the handler's associated executor.
template <class Handler, class Executor, class... Args>
void complete_later(Handler&& handler, const Executor& fallback, Args&&... args) {
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected())
        slot.clear();
    boost::asio::post(
        fallback, boost::asio::append(std::forward<Handler>(handler), std::forward<Args>(args)...));
}

// Completes a stored handler from inside the completion of another operation -- never from
// the initiating function of the handler's own operation, so "never inline" still holds. The
// handler runs through its associated executor (at once where that is the one we run on)
// instead of taking another trip through the scheduler queue, where every trip costs an
// epoll_wait on a busy io_context.
template <class Handler, class... Args>
void complete_now(Handler&& handler, Args&&... args) {
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected())
        slot.clear();
    boost::asio::dispatch(
        boost::asio::append(std::forward<Handler>(handler), std::forward<Args>(args)...));
}

// For a handler known to run on `ex`, the executor we are running on: what dispatch would do,
// without building a type-erased executor to find that out. An exception the handler throws is
// the application's, not the run loop's: it is rethrown from a handler posted to `ex`, so it
// leaves io_context::run() as it would from a posted completion, and the session carries on.
template <class Handler, class Executor, class... Args>
void invoke_now(Handler&& handler, const Executor& ex, Args&&... args) {
    auto slot = boost::asio::get_associated_cancellation_slot(handler);
    if (slot.is_connected())
        slot.clear();
    try {
        std::move(handler)(std::forward<Args>(args)...);
    } catch (...) {
        boost::asio::post(ex, [ep = std::current_exception()] { std::rethrow_exception(ep); });
    }
}

// The cancellation slot of a stored handler (handler_box.hpp answers for a box).
template <class Handler>
auto cancellation_slot_of(Handler& handler) noexcept {
    return boost::asio::get_associated_cancellation_slot(handler);
}

// Keeps `handler` in `pending` until its owner completes it. Cancellation of any type completes
// it early with operation_aborted and `empty`. `locate()` returns where `pending` lives (a
// pointer, or a shared_ptr that keeps the owner alive meanwhile), or null once the owner is gone.
template <class Handler, class Executor, class Value, class Locate>
void park_cancellable(std::optional<Handler>& pending, Handler handler, const Executor& ex,
                      Value empty, Locate locate) {
    auto slot = cancellation_slot_of(handler);
    if (slot.is_connected()) {
        slot.assign([ex, empty = std::move(empty), locate](boost::asio::cancellation_type) mutable {
            auto where = locate();
            if (!where || !*where)
                return;
            auto parked = std::move(**where); // constructed, not assigned: see the note below
            where->reset();
            // Completing clears the slot, which destroys this very lambda: take what it owns
            // out of it first.
            auto executor = ex;
            auto value = std::move(empty);
            complete_later(std::move(parked), executor,
                           boost::system::error_code(boost::asio::error::operation_aborted),
                           std::move(value));
        });
    }
    // emplace, not assignment: move-assigning a Boost 1.81 any_completion_handler recurses.
    pending.emplace(std::move(handler));
}

} // namespace heartbeat::detail
