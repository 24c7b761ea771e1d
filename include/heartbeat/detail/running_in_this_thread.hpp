#pragma once
// Whether the calling thread is running handlers of an executor. When it is, asio::dispatch
// would run a function at once anyway, and calling it directly saves building the type-erased
// dispatch on every send and receive -- the sessions' hot path.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/strand.hpp>

#include <type_traits>

namespace heartbeat::detail {

// Answers for the stock executors (an io_context executor, a strand of one, or either behind
// any_io_executor); false, so the caller dispatches, for any other.
template <class Executor>
bool running_in_this_thread(const Executor& ex) noexcept {
    if constexpr (requires { ex.running_in_this_thread(); }) {
        return ex.running_in_this_thread();
    } else if constexpr (std::is_same_v<Executor, boost::asio::any_io_executor>) {
        using io_executor = boost::asio::io_context::executor_type;
        if (const auto* io = ex.template target<io_executor>())
            return io->running_in_this_thread();
        if (const auto* strand = ex.template target<boost::asio::strand<io_executor>>())
            return strand->running_in_this_thread();
        return false;
    } else {
        return false;
    }
}

} // namespace heartbeat::detail
