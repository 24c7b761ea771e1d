#pragma once
// The member functions of session<Link>: the initiations of the public operations, which hand
// over to the session core on the session's executor. Included by a link's implementation
// header (stream_session_impl.hpp, websocket_session_impl.hpp); the stock sessions are compiled
// once in src/.
#include <heartbeat/detail/running_in_this_thread.hpp>
#include <heartbeat/session/queued_send.hpp>
#include <heartbeat/session/session_core.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/dispatch.hpp>

namespace heartbeat {

template <class Link>
session<Link>::session(stream_type stream, config_type config, session_callbacks callbacks)
    : session(shared_config_tag{}, std::move(stream),
              std::make_shared<const config_type>(std::move(config)), std::move(callbacks)) {}

template <class Link>
session<Link>::session(shared_config_tag, stream_type stream,
                       std::shared_ptr<const config_type> config, session_callbacks callbacks)
    : stream_(Link::store(std::move(stream))), executor_(Link::stream_of(stream_).get_executor()),
      config_(config ? config : std::make_shared<const config_type>()),
      callbacks_(std::move(callbacks)), shared_(std::make_unique<detail::session_shared_stats>()) {
    // A null shared config is an invalid one: the run ends with invalid_config (config() then
    // reads a default config rather than nothing).
    if (config && !Link::validate(*config_))
        core_ = std::make_unique<detail::session_core<Link>>(*this);
}

template <class Link>
session<Link>::~session() = default;

template <class Link>
void session<Link>::start_run(run_handler handler) {
    boost::asio::dispatch(executor_, [this, h = std::move(handler)]() mutable {
        const auto ex = executor_;
        if (!core_) { // the config was invalid
            if (auto invalid = Link::validate(*config_))
                detail::session_observer::invalid_config(config_->log, *invalid);
            detail::complete_later(std::move(h), ex,
                                   boost::system::error_code(error::invalid_config));
            return;
        }
        if (core_->run_started) {
            detail::complete_later(std::move(h), ex,
                                   boost::system::error_code(boost::asio::error::already_started));
            return;
        }
        core_->run_started = true;
        auto slot = boost::asio::get_associated_cancellation_slot(h);
        if (slot.is_connected())
            slot.assign([this](boost::asio::cancellation_type) { cancel(); });
        core_->run_completion.emplace(std::move(h));
        core_->start();
    });
}

// At once when already on the session's executor (what dispatch would do, without moving the
// message and handler into a function object and through a type-erased executor).
template <class Link>
void session<Link>::start_send(std::string&& message, send_options options, send_box&& handler,
                               bool direct) {
    if (core_ && detail::running_in_this_thread(executor_)) {
        send_here(std::move(message), options, std::move(handler), direct);
        return;
    }
    boost::asio::dispatch(executor_, [this, options, direct, m = std::move(message),
                                      h = std::move(handler)]() mutable {
        send_here(std::move(m), options, std::move(h), direct);
    });
}

template <class Link>
void session<Link>::send_here(std::string&& m, send_options options, send_box&& h, bool direct) {
    if (!core_) {
        detail::complete_later(std::move(h), executor_,
                               boost::system::error_code(error::invalid_config));
        return;
    }
    auto& c = *core_;
    if (auto refused = detail::send_refusal(c.ended, c.end_reason, c.stop_reason, c.closing)) {
        detail::complete_later(std::move(h), executor_, refused);
        return;
    }
    typename Link::outgoing_tag tag{};
    if (auto invalid = c.link.admit(m, options, tag)) {
        detail::complete_later(std::move(h), executor_, invalid);
        return;
    }
    const std::uint64_t id = c.next_message_id++;
    auto slot = h.cancellation_slot();
    if (slot.is_connected()) {
        slot.assign([this, id](boost::asio::cancellation_type) {
            detail::withdraw_queued(
                core_->send_queue, id,
                [this](const auto& q, std::size_t i) { return core_->link.writing(q, i); },
                shared_->queued_send_bytes, executor_);
        });
    }
    detail::counter_add(shared_->queued_send_bytes, m.size());
    // Constructed in place (Boost 1.81's any_completion_handler move *assignment* recurses;
    // and a move of the message less).
    c.send_queue.emplace_back(std::move(m), std::size_t{0}, std::move(h), id, false, direct, tag);
    c.link.wake_writer();
}

template <class Link>
void session<Link>::start_receive(receive_box&& handler, bool direct) {
    if (core_ && detail::running_in_this_thread(executor_)) {
        receive_here(std::move(handler), direct);
        return;
    }
    boost::asio::dispatch(executor_, [this, direct, h = std::move(handler)]() mutable {
        receive_here(std::move(h), direct);
    });
}

template <class Link>
void session<Link>::receive_here(receive_box&& h, bool direct) {
    if (!core_) {
        detail::complete_later(std::move(h), executor_,
                               boost::system::error_code(error::invalid_config), message_type{});
        return;
    }
    auto& c = *core_;
    const auto& ex = executor_;
    if (c.pending_receive) {
        detail::complete_later(std::move(h), ex,
                               boost::system::error_code(boost::asio::error::already_started),
                               message_type{});
        return;
    }
    if (message_type m; !c.inbox.empty() && c.take_received(m)) {
        if (!c.inbox_full())
            c.link.resume_reader();
        c.link.on_taken();
        detail::complete_later(std::move(h), ex, boost::system::error_code{}, std::move(m));
        return;
    }
    if (c.ended) {
        detail::complete_later(std::move(h), ex, c.end_reason, message_type{});
        return;
    }
    detail::park_cancellable(c.pending_receive, std::move(h), ex, message_type{},
                             [this] { return &core_->pending_receive; });
    c.pending_receive_direct = direct;
}

template <class Link>
void session<Link>::start_wait_event(event_handler handler) {
    boost::asio::dispatch(executor_, [this, h = std::move(handler)]() mutable {
        const auto ex = executor_;
        if (!core_) {
            detail::complete_later(std::move(h), ex,
                                   boost::system::error_code(error::invalid_config),
                                   session_event{});
            return;
        }
        auto& c = *core_;
        if (c.pending_event) {
            detail::complete_later(std::move(h), ex,
                                   boost::system::error_code(boost::asio::error::already_started),
                                   session_event{});
            return;
        }
        if (!c.events.empty()) {
            session_event e = c.events.pop_front();
            if (e.kind == session_event_kind::ended)
                c.ended_event_taken = true;
            detail::complete_later(std::move(h), ex, boost::system::error_code{}, std::move(e));
            return;
        }
        if (c.ended && c.ended_event_taken) {
            detail::complete_later(std::move(h), ex, c.end_reason, session_event{});
            return;
        }
        detail::park_cancellable(c.pending_event, std::move(h), ex, session_event{},
                                 [this] { return &core_->pending_event; });
    });
}

template <class Link>
void session<Link>::close() {
    boost::asio::dispatch(executor_, [this] {
        if (!core_ || core_->ended || core_->closing || core_->stop_reason)
            return;
        core_->closing = true;
        core_->stop(error::session_closed);
    });
}

template <class Link>
void session<Link>::cancel() {
    boost::asio::dispatch(executor_, [this] {
        if (!core_ || core_->ended)
            return;
        core_->stop(boost::asio::error::operation_aborted);
        core_->link.abort_io();
    });
}

template <class Link>
session_stats session<Link>::stats() const {
    return shared_->snapshot();
}

} // namespace heartbeat
