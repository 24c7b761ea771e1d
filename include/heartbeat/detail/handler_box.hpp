#pragma once
// A completion handler stored by a session until the operation completes: as its own type when
// it is one of the handlers of the common tokens (no type erasure: no allocation, no indirect
// call per completion), else type-erased.
#include <heartbeat/detail/completion.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>

namespace heartbeat::detail {

// A completion handler kept as its own type when it is one of `Fast` (no type erasure: no
// allocation, no indirect calls), else as `Erased` (an any_completion_handler).
template <class Erased, class... Fast>
class handler_box {
public:
    template <class Handler>
    explicit handler_box(Handler&& h)
        : handler_(std::in_place_type<stored_type<std::decay_t<Handler>>>,
                   std::forward<Handler>(h)) {}
    handler_box(handler_box&&) = default;
    // Never assigned: move-assigning a Boost 1.81 any_completion_handler recurses.
    handler_box& operator=(handler_box&&) = delete;

    // Calls f(handler&) with the handler as its stored type.
    template <class F>
    decltype(auto) visit(F&& f) {
        return std::visit(std::forward<F>(f), handler_);
    }

    boost::asio::cancellation_slot cancellation_slot() {
        return visit([](auto& h) -> boost::asio::cancellation_slot {
            return boost::asio::get_associated_cancellation_slot(h);
        });
    }

private:
    template <class Handler>
    using stored_type = std::conditional_t<(std::is_same_v<Handler, Fast> || ...), Handler, Erased>;
    std::variant<Erased, Fast...> handler_;
};

// The handlers of the C++20-coroutine tokens (use_awaitable, as_tuple(use_awaitable)) with the
// default any_io_executor, for an operation with signature void(Args...). (as_tuple_handler is
// Boost 1.81's name for as_tuple's handler.)
template <class... Args>
using awaitable_handler_t =
    typename boost::asio::async_result<boost::asio::use_awaitable_t<>, void(Args...)>::handler_type;
template <class... Args>
using awaitable_tuple_handler_t =
    boost::asio::detail::as_tuple_handler<awaitable_handler_t<std::tuple<Args...>>>;

// complete_later and park_cancellable for a handler_box: on the handler as its stored type.
template <class Erased, class... Fast, class Executor, class... Args>
void complete_box_later(handler_box<Erased, Fast...>&& box, const Executor& fallback,
                        Args&&... args) {
    box.visit(
        [&](auto& h) { complete_later(std::move(h), fallback, std::forward<Args>(args)...); });
}

// complete_now and invoke_now for a handler_box.
template <class Erased, class... Fast, class... Args>
void complete_box_now(handler_box<Erased, Fast...>&& box, Args&&... args) {
    box.visit([&](auto& h) { complete_now(std::move(h), std::forward<Args>(args)...); });
}

template <class Erased, class... Fast, class Executor, class... Args>
void invoke_box_now(handler_box<Erased, Fast...>&& box, const Executor& ex, Args&&... args) {
    box.visit([&](auto& h) { invoke_now(std::move(h), ex, std::forward<Args>(args)...); });
}

template <class Erased, class... Fast, class Executor, class Value, class Locate>
void park_box_cancellable(std::optional<handler_box<Erased, Fast...>>& pending,
                          handler_box<Erased, Fast...>&& box, const Executor& ex, Value empty,
                          Locate locate) {
    box.visit([&](auto& h) {
        auto slot = boost::asio::get_associated_cancellation_slot(h);
        if (!slot.is_connected())
            return;
        slot.assign([ex, empty = std::move(empty), locate](boost::asio::cancellation_type) mutable {
            auto where = locate();
            if (!where || !*where)
                return;
            auto parked = std::move(**where); // constructed, not assigned
            where->reset();
            // Completing clears the slot, which destroys this very lambda: take what it owns
            // out of it first.
            auto executor = ex;
            auto value = std::move(empty);
            complete_box_later(std::move(parked), executor,
                               boost::system::error_code(boost::asio::error::operation_aborted),
                               std::move(value));
        });
    });
    pending.emplace(std::move(box));
}

} // namespace heartbeat::detail
