#include "soak_fleet.hpp"

#include <heartbeat/core/error.hpp>

namespace soak {

namespace {
constexpr const char* peer_label_prefix = "peer";

int peer_of(const std::string& label) {
    if (label.rfind(peer_label_prefix, 0) != 0)
        return -1;
    return std::atoi(label.c_str() + 4);
}

heartbeat::endpoint peer_endpoint(std::size_t index, unsigned short port) {
    auto e = heartbeat::endpoint::from(
        boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address("127.0.0.1"), port));
    // The label names the peer, not the port, so verdicts are attributed to a process.
    e.label = peer_label_prefix + std::to_string(index);
    return e;
}
} // namespace

soak_fleet::soak_fleet(boost::asio::io_context& ioc, const std::vector<unsigned short>& ports,
                       fleet_options options, soak_clock::time_point start)
    : ioc_(ioc), options_(std::move(options)), start_(start) {
    payload_.assign(options_.payload, 'x');
    members_.resize(options_.sessions);
    const std::size_t peers = ports.size();
    for (std::size_t i = 0; i < members_.size(); ++i) {
        const std::size_t primary = i % peers, backup = (i + 1) % peers;
        std::vector<heartbeat::endpoint> endpoints{peer_endpoint(primary, ports[primary])};
        if (backup != primary)
            endpoints.push_back(peer_endpoint(backup, ports[backup]));
        heartbeat::client_event_callback callback;
        if (!options_.wait_events)
            callback = [this, i](const heartbeat::client_event& e) { on_event(i, e); };
        members_[i].client = std::make_unique<heartbeat::client>(
            ioc_.get_executor(), std::move(endpoints), options_.config, std::move(callback));
        members_[i].timer = std::make_unique<boost::asio::steady_timer>(ioc_);
    }
}

double soak_fleet::now_s() const {
    return std::chrono::duration<double>(soak_clock::now() - start_).count();
}

void soak_fleet::start() {
    sending_ = true;
    const auto period = std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::duration<double>(1.0 / options_.rate));
    std::uniform_int_distribution<std::int64_t> phase(0, period.count());
    for (std::size_t i = 0; i < members_.size(); ++i) {
        members_[i].client->async_run([this, i](boost::system::error_code ec) {
            members_[i].run_ended = true;
            ++run_endings_;
            // close() at the end is the only expected ending.
            if (ec != heartbeat::error::session_closed)
                ++run_errors_;
        });
        if (options_.wait_events)
            wait_event(i);
        // A random phase, so 1,000 sessions do not send in lockstep.
        arm(i, std::chrono::nanoseconds(phase(rng_)));
    }
}

void soak_fleet::arm(std::size_t index, std::chrono::nanoseconds delay) {
    auto& timer = *members_[index].timer;
    timer.expires_after(delay);
    timer.async_wait([this, index](boost::system::error_code ec) {
        if (ec || !sending_)
            return;
        send_one(index);
        arm(index, std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::duration<double>(1.0 / options_.rate)));
    });
}

void soak_fleet::send_one(std::size_t index) {
    ++sent_;
    std::string message = std::to_string(index) + ":" + std::to_string(sent_) + ":" + payload_;
    members_[index].client->async_send(std::move(message),
                                       [this](boost::system::error_code ec, std::uint64_t) {
                                           if (ec)
                                               ++send_errors_;
                                           else
                                               ++accepted_;
                                       });
}

void soak_fleet::wait_event(std::size_t index) {
    members_[index].client->async_wait_event(
        [this, index](boost::system::error_code ec, heartbeat::client_event e) {
            if (ec) // the run ended
                return;
            on_event(index, e);
            wait_event(index);
        });
}

void soak_fleet::on_event(std::size_t index, const heartbeat::client_event& e) {
    using kind = heartbeat::client_event_kind;
    auto& m = members_[index];
    if (e.kind == kind::connected && !m.ever_connected) {
        m.ever_connected = true;
        ever_connected.fetch_add(1, std::memory_order_relaxed);
    } else if (e.kind == kind::dead) {
        verdict_record r;
        r.at_s = now_s();
        r.peer = peer_of(e.endpoint);
        if (e.dead) {
            r.silence_s = std::chrono::duration<double>(e.dead->silence).count();
            r.stalled_s = std::chrono::duration<double>(e.dead->stalled).count();
            r.missed = e.dead->missed;
        }
        verdicts.push_back(r);
    } else if (e.kind == kind::closed) {
        ++closed_reasons[e.reason ? e.reason.message() : std::string("(none)")];
    }
}

void soak_fleet::stop_sending() {
    sending_ = false;
    for (auto& m : members_)
        m.timer->cancel();
}

void soak_fleet::close_all() {
    stop_sending();
    for (auto& m : members_)
        m.client->close();
}

fleet_totals soak_fleet::totals() const {
    fleet_totals t;
    t.sent = sent_;
    t.accepted = accepted_;
    t.send_errors = send_errors_;
    t.run_endings = run_endings_;
    t.run_errors = run_errors_;
    for (const auto& m : members_) {
        const auto s = m.client->stats();
        t.acked += s.messages_acked;
        t.resent += s.messages_resent;
        t.unacked += s.unacked;
        t.sessions += s.sessions;
        t.failovers += s.failovers;
        t.failbacks += s.failbacks;
        t.verdicts += s.verdicts;
        t.connected_now += s.connected ? 1 : 0;
    }
    return t;
}

} // namespace soak
