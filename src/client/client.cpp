// heartbeat::client's public operations. They run on the client's strand and hand what
// concerns the supervisor to its machine through the driver (client/client_impl.hpp).
#include <heartbeat/client/client.hpp>

#include "client_impl.hpp"

#include <heartbeat/core/error.hpp>
#include <heartbeat/detail/completion.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/dispatch.hpp>

#include <stdexcept>

namespace heartbeat {

namespace asio = boost::asio;
namespace sv = supervisor;
using boost::system::error_code;
using detail::complete_later;

client::client(executor_type executor, std::vector<endpoint> endpoints, client_config config,
               client_event_callback on_event) {
    if (endpoints.empty())
        throw std::invalid_argument("heartbeat::client needs at least one endpoint");
    impl_ = std::make_shared<impl>(std::move(executor), std::move(endpoints), std::move(config),
                                   std::move(on_event));
}

client::~client() {
    if (impl_)
        cancel();
}

client::executor_type client::get_executor() const noexcept {
    return impl_->strand;
}

std::uint64_t client::session_id() const noexcept {
    return impl_->id;
}

void client::start_run(run_handler h) {
    auto i = impl_;
    asio::dispatch(i->strand, [i, h = std::move(h)]() mutable {
        if (i->run_started) {
            complete_later(std::move(h), i->strand, error_code(asio::error::already_started));
            return;
        }
        i->run_started = true;
        if (auto invalid = validate(i->config)) {
            log_to(i->config.log, log_level::error, "invalid config",
                   {{"field", invalid->field},
                    {"value", invalid->value},
                    {"reason", invalid->reason}});
            i->give_up_before_start(error::invalid_config);
            complete_later(std::move(h), i->strand, error_code(error::invalid_config));
            return;
        }
        auto slot = asio::get_associated_cancellation_slot(h);
        if (slot.is_connected()) {
            slot.assign([weak = std::weak_ptr<impl>(i)](asio::cancellation_type) {
                if (auto p = weak.lock())
                    asio::dispatch(p->strand, [p] { p->feed(sv::cancel_requested{}); });
            });
        }
        i->begin_run(std::move(h));
    });
}

void client::start_send(std::string message, send_handler h) {
    auto i = impl_;
    asio::dispatch(i->strand, [i, m = std::move(message), h = std::move(h)]() mutable {
        if (i->stopping()) {
            complete_later(std::move(h), i->strand, i->ended ? i->end_reason : i->fsm.stop_reason(),
                           std::uint64_t{0});
            return;
        }
        if (i->send_waiters.empty() && i->outbox.has_room(m.size())) {
            i->accept(std::move(m), std::move(h));
            return;
        }
        const std::uint64_t ticket = i->next_ticket++;
        auto slot = asio::get_associated_cancellation_slot(h);
        if (slot.is_connected()) {
            std::weak_ptr<impl> weak = i;
            slot.assign([weak, ticket](asio::cancellation_type) {
                auto p = weak.lock();
                if (!p)
                    return;
                auto& q = p->send_waiters;
                for (auto it = q.begin(); it != q.end(); ++it)
                    if (it->ticket == ticket) {
                        auto handler = std::move(it->handler);
                        q.erase(it);
                        complete_later(std::move(handler), p->strand,
                                       error_code(asio::error::operation_aborted),
                                       std::uint64_t{0});
                        return;
                    }
            });
        }
        i->send_waiters.push_back({std::move(m), std::move(h), ticket});
    });
}

void client::start_receive(receive_handler h) {
    auto i = impl_;
    asio::dispatch(i->strand, [i, h = std::move(h)]() mutable {
        if (i->pending_receive) {
            complete_later(std::move(h), i->strand, error_code(asio::error::already_started),
                           received_message{});
            return;
        }
        if (!i->inbox.empty()) {
            auto m = std::move(i->inbox.front());
            i->inbox.pop_front();
            complete_later(std::move(h), i->strand, error_code{}, std::move(m));
            return;
        }
        if (i->ended) {
            complete_later(std::move(h), i->strand, i->end_reason, received_message{});
            return;
        }
        std::weak_ptr<impl> weak = i;
        detail::park_cancellable(i->pending_receive, std::move(h), i->strand, received_message{},
                                 [weak]() -> std::shared_ptr<std::optional<receive_handler>> {
                                     auto p = weak.lock();
                                     return p ? std::shared_ptr<std::optional<receive_handler>>(
                                                    p, &p->pending_receive)
                                              : nullptr;
                                 });
    });
}

void client::start_wait_event(event_handler h) {
    auto i = impl_;
    asio::dispatch(i->strand, [i, h = std::move(h)]() mutable {
        if (i->pending_event) {
            complete_later(std::move(h), i->strand, error_code(asio::error::already_started),
                           client_event{});
            return;
        }
        if (!i->events.empty()) {
            auto e = std::move(i->events.front());
            i->events.pop_front();
            complete_later(std::move(h), i->strand, error_code{}, std::move(e));
            return;
        }
        if (i->ended) {
            complete_later(std::move(h), i->strand, i->end_reason, client_event{});
            return;
        }
        std::weak_ptr<impl> weak = i;
        detail::park_cancellable(i->pending_event, std::move(h), i->strand, client_event{},
                                 [weak]() -> std::shared_ptr<std::optional<event_handler>> {
                                     auto p = weak.lock();
                                     return p ? std::shared_ptr<std::optional<event_handler>>(
                                                    p, &p->pending_event)
                                              : nullptr;
                                 });
    });
}

void client::close() {
    auto i = impl_;
    asio::dispatch(i->strand, [i] {
        if (i->stopping())
            return;
        // The sends waiting for room fail now; what the buffer holds is flushed by the close.
        i->fail_waiters(error::session_closed);
        i->feed(sv::close_requested{});
    });
}

void client::cancel() {
    auto i = impl_;
    asio::dispatch(i->strand, [i] { i->feed(sv::cancel_requested{}); });
}

client_stats client::stats() const {
    std::lock_guard lock(impl_->stats_mutex);
    return impl_->counters;
}

std::vector<received_message> client::unacked_messages() const {
    return impl_->outbox.snapshot();
}

} // namespace heartbeat
