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

// The completion helpers (completion.hpp) for a handler_box: on the handler as its stored type.
// More specialised than the generic templates, so every caller, park_cancellable included,
// completes a box the same way it completes a bare handler.
template <class Erased, class... Fast, class Executor, class... Args>
void complete_later(handler_box<Erased, Fast...>&& box, const Executor& fallback, Args&&... args) {
    box.visit(
        [&](auto& h) { complete_later(std::move(h), fallback, std::forward<Args>(args)...); });
}

template <class Erased, class... Fast, class... Args>
void complete_now(handler_box<Erased, Fast...>&& box, Args&&... args) {
    box.visit([&](auto& h) { complete_now(std::move(h), std::forward<Args>(args)...); });
}

template <class Erased, class... Fast, class Executor, class... Args>
void invoke_now(handler_box<Erased, Fast...>&& box, const Executor& ex, Args&&... args) {
    box.visit([&](auto& h) { invoke_now(std::move(h), ex, std::forward<Args>(args)...); });
}

template <class Erased, class... Fast>
boost::asio::cancellation_slot cancellation_slot_of(handler_box<Erased, Fast...>& box) {
    return box.cancellation_slot();
}

} // namespace heartbeat::detail
