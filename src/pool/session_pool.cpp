// The session pool's driver: readiness waits, non-blocking writes and one timer around one
// peer_monitor_table. See session_pool.hpp for what it does and why it is cheap.
#include <heartbeat/pool/session_pool.hpp>

#include <heartbeat/core/close_code.hpp>
#include <heartbeat/core/error.hpp>
#include <heartbeat/core/peer_monitor_table.hpp>
#include <heartbeat/detail/peer_went_away.hpp>
#include <heartbeat/protocol/native/frame_codec.hpp>
#include <heartbeat/protocol/native/hello_rules.hpp>
#include <heartbeat/session/tcp_keepalive.hpp>

#include <boost/asio/bind_allocator.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/system/system_error.hpp>

#include <algorithm>
#include <array>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include <unistd.h>

namespace heartbeat {

namespace asio = boost::asio;
using boost::system::error_code;

std::optional<config_error> validate(const session_pool_config& c) {
    if (auto e = validate(c.session))
        return e;
    if (auto e = peer_monitor_table::validate(c.session.heartbeat))
        return config_error("session_pool_config.session." + e->field, e->reason, e->value);
    const auto unsupported = [](const char* field) {
        return config_error(std::string("session_pool_config.session.") + field,
                            "is not supported by session_pool (use tcp_session)");
    };
    if (c.session.resume)
        return unsupported("resume");
    if (c.session.session_id != 0)
        return unsupported("session_id");
    if (c.session.metrics)
        return unsupported("metrics");
    if (c.session.log)
        return unsupported("log");
    if (c.capacity == 0 || c.capacity > 0xfffffffeu)
        return config_error("session_pool_config.capacity", "must be in [1, 2^32 - 2]",
                            config_value_text(static_cast<std::uint64_t>(c.capacity)));
    if (c.send_queue_limit == 0)
        return config_error("session_pool_config.send_queue_limit", "must be > 0", "0");
    if (c.timer_slack < duration::zero() || c.timer_slack > c.session.heartbeat.pong_timeout)
        return config_error("session_pool_config.timer_slack",
                            "must be in [0, session.heartbeat.pong_timeout]",
                            config_value_text(c.timer_slack));
    return std::nullopt;
}

namespace {

// What a member keeps only while it needs it: a frame cut across reads, a message arriving in
// several DATA chunks, bytes its socket refused. Most members never have one.
struct member_spill {
    std::vector<std::uint8_t> carry; // the start of a frame whose rest has not arrived
    std::string assembling;          // the chunks so far of a message in several DATA frames
    std::vector<std::uint8_t> out;   // bytes to write, in order, from out_offset
    std::size_t out_offset = 0;
    std::vector<std::size_t> message_ends; // offsets in `out` where queued messages end
    std::size_t ping_end = 0;              // a queued ping ends here (ping_seq != 0)
    std::uint32_t ping_seq = 0;

    std::size_t queued() const noexcept { return out.size() - out_offset; }
    bool idle() const noexcept { return carry.empty() && assembling.empty() && queued() == 0; }
};

struct pool_member {
    explicit pool_member(session_pool::socket_type s) : socket(std::move(s)) {}
    session_pool::socket_type socket;
    std::unique_ptr<member_spill> spill;
    std::uint64_t next_in_seq = 1; // sequence number of the next complete inbound message
    std::uint64_t acked = 0;       // the last cumulative ACK we wrote
    std::uint32_t table_id = 0;
    std::uint32_t generation = 0;
    bool open = false;    // the peer's HELLO arrived
    bool closing = false; // close(): end once `out` is written
    bool ended = false;

    member_spill& spilled() {
        if (!spill)
            spill = std::make_unique<member_spill>();
        return *spill;
    }
};

constexpr std::uint32_t no_slot = 0xffffffffu;

// A member's pending wait is allocated at its own size. Asio's default recycling allocator would
// hand it the cached block of whatever operation finished last on this thread -- an accept or a
// connect, more than twice as big -- and a pool holds one such wait per member for as long as
// the member lives (measured: 240 B instead of 112 B per member).
// (std::allocator itself would not do: Asio treats it as "no allocator" and recycles.)
template <class T>
struct exact_allocator {
    using value_type = T;
    exact_allocator() = default;
    template <class U>
    exact_allocator(const exact_allocator<U>&) noexcept {}
    T* allocate(std::size_t n) { return static_cast<T*>(::operator new(n * sizeof(T))); }
    void deallocate(T* p, std::size_t) noexcept { ::operator delete(p); }
    template <class U>
    bool operator==(const exact_allocator<U>&) const noexcept {
        return true;
    }
};

template <class Handler>
auto exact_size(Handler&& handler) {
    return asio::bind_allocator(exact_allocator<void>(), std::forward<Handler>(handler));
}

error_code ending_of_transport(const error_code& ec) {
    return detail::peer_went_away(ec) ? error_code(error::peer_closed) : ec;
}

} // namespace

struct session_pool::impl : std::enable_shared_from_this<impl> {
    impl(asio::io_context& ioc_, session_pool_config cfg_, session_pool_callbacks cb_)
        : ioc(ioc_), ex(ioc_.get_executor()), cfg(std::move(cfg_)), cb(std::move(cb_)),
          table(cfg.session.heartbeat, cfg.capacity, clock::now()), timer(ex),
          slot_of_table_id(cfg.capacity, no_slot),
          scratch(new std::uint8_t[scratch_size]) { // not zeroed: touched as reads fill it
        batch.reserve(64);
        actions.reserve(64);
        members.reserve(cfg.capacity); // no reallocation (and freed copies) as the pool fills
        generations.reserve(cfg.capacity);
    }

    asio::io_context& ioc;
    executor_type ex;
    session_pool_config cfg;
    session_pool_callbacks cb;
    peer_monitor_table table;
    asio::basic_waitable_timer<clock, asio::wait_traits<clock>, executor_type> timer;
    time_point armed_at = time_point::max();
    time_point last_fire{};
    std::uint64_t timer_generation = 0;
    std::vector<std::unique_ptr<pool_member>> members; // by slot
    std::vector<std::uint32_t> generations;            // by slot; outlive their members
    std::vector<std::uint32_t> free_slots;
    std::vector<std::uint32_t> slot_of_table_id;
    std::vector<std::uint32_t> graveyard; // ended members, destroyed once no frame of ours runs
    std::vector<peer_action> actions;     // what the table asked for, handled after each call
    std::vector<peer_action> batch;
    static constexpr std::size_t scratch_size = 64 * 1024;
    std::unique_ptr<std::uint8_t[]> scratch; // every member reads into it
    session_pool_stats st;
    unsigned depth = 0; // our frames on the stack: members are destroyed only at 0
    bool stopped = false;

    // Members die only when none of our frames can still hold a reference to them.
    struct frame_guard {
        explicit frame_guard(impl& p) : pool(p) { ++pool.depth; }
        ~frame_guard() {
            if (--pool.depth == 0)
                pool.reap();
        }
        impl& pool;
    };

    auto sink() {
        return [this](const peer_action& a) { actions.push_back(a); };
    }

    pool_member* live(pool_member_id id) const noexcept {
        if (id.index >= members.size() || generations[id.index] != id.generation)
            return nullptr;
        pool_member* m = members[id.index].get();
        return m && !m->ended ? m : nullptr;
    }
    pool_member* live(std::uint32_t slot, std::uint32_t generation) const noexcept {
        return live(pool_member_id{slot, generation});
    }

    // --- membership ------------------------------------------------------------------------

    pool_member_id add(socket_type socket, error_code& ec) {
        ec = {};
        const time_point now = clock::now();
        const auto table_id = table.add(now);
        if (!table_id) {
            ec = error::pool_full;
            error_code ignored;
            socket.close(ignored);
            return {};
        }
        std::uint32_t slot;
        if (!free_slots.empty()) {
            slot = free_slots.back();
            free_slots.pop_back();
        } else {
            slot = static_cast<std::uint32_t>(members.size());
            members.emplace_back();
            generations.push_back(0);
        }
        auto& m = members[slot];
        m = std::make_unique<pool_member>(std::move(socket));
        m->table_id = *table_id;
        m->generation = generations[slot];
        m->next_in_seq = 1;
        slot_of_table_id[*table_id] = slot;
        ++st.added;
        ++st.members;
        const pool_member_id id{slot, m->generation};

        error_code setup;
        m->socket.non_blocking(true, setup);
        if (!setup)
            detail::apply_tcp_keepalive(m->socket, cfg.session.tcp_keepalive,
                                        cfg.session.heartbeat);
        if (setup) {
            finish(slot, setup);
            return id;
        }
        std::array<std::uint8_t, 64> hello{};
        const std::size_t n = encode(hello_of(cfg.session), hello);
        if (!write(slot, *m, hello.data(), n, nullptr, 0, false))
            return id;
        wait_readable(slot, *m);
        arm();
        return id;
    }

    // The member ends: CLOSE when it is worth saying, the socket closes, on_ended. Its object
    // lives on (ended) until no frame of ours can hold it.
    void finish(std::uint32_t slot, error_code reason) {
        pool_member& m = *members[slot];
        if (m.ended)
            return;
        m.ended = true;
        const bool transport_gone = reason.category() != heartbeat_category() ||
                                    reason == error::peer_closed || reason == error::write_stalled;
        if (!transport_gone && (!m.spill || m.spill->queued() == 0)) {
            // Best effort, without waiting: the peer learns why (close_code_for), if its socket
            // takes 40 more bytes.
            std::vector<std::uint8_t> bye;
            encode_append(close_frame{close_code_for(reason), error_name(reason)}, bye);
            error_code ignored;
            m.socket.write_some(asio::buffer(bye), ignored);
        }
        pool_member_ending ending;
        ending.reason = reason;
        if (m.spill) {
            ending.unsent_bytes = m.spill->queued();
            ending.unsent_messages = m.spill->message_ends.size();
            st.queued_send_bytes -= m.spill->queued();
        }
        error_code ignored;
        m.socket.shutdown(asio::socket_base::shutdown_both, ignored);
        m.socket.close(ignored);
        table.remove(m.table_id);
        slot_of_table_id[m.table_id] = no_slot;
        ++generations[slot]; // the id is refused from here
        --st.members;
        if (m.open)
            --st.open;
        ++st.ended;
        if (reason == error::peer_dead || reason == error::handshake_timeout)
            ++st.verdicts;
        graveyard.push_back(slot);
        if (cb.on_ended)
            cb.on_ended(pool_member_id{slot, m.generation}, ending);
    }

    void reap() {
        for (std::uint32_t slot : graveyard) {
            members[slot].reset();
            free_slots.push_back(slot);
        }
        graveyard.clear();
    }

    // --- the table and the timer -----------------------------------------------------------

    void run_actions(time_point now) {
        while (!actions.empty()) {
            batch.swap(actions);
            for (const peer_action& a : batch)
                handle(a, now);
            batch.clear();
        }
    }

    void handle(const peer_action& a, time_point now) {
        const std::uint32_t slot = slot_of_table_id[a.peer];
        if (slot == no_slot)
            return;
        pool_member& m = *members[slot];
        if (m.ended)
            return;
        switch (a.kind) {
        case peer_action_kind::send_ping: {
            std::array<std::uint8_t, frame_header_size + 16> ping{};
            encode(ping_frame{a.seq, to_wire_micros(now)}, ping);
            ++st.pings_sent;
            if (!write(slot, m, ping.data(), ping.size(), nullptr, 0, false))
                return;
            if (m.spill && m.spill->queued() != 0) { // behind queued bytes: written later
                m.spill->ping_seq = a.seq;
                m.spill->ping_end = m.spill->out.size();
            } else {
                table.on_ping_written(m.table_id, a.seq, now, sink());
            }
            return;
        }
        case peer_action_kind::suspect:
        case peer_action_kind::alive:
            if (cb.on_state)
                cb.on_state(pool_member_id{slot, m.generation}, a.kind == peer_action_kind::alive
                                                                    ? peer_state::alive
                                                                    : peer_state::suspect);
            return;
        case peer_action_kind::dead:
            finish(slot,
                   m.open ? error_code(error::peer_dead) : error_code(error::handshake_timeout));
            return;
        }
    }

    // One timer for the pool, armed for the table's next event, at most every timer_slack.
    void arm() {
        if (stopped)
            return;
        time_point next = table.next_event();
        if (next == time_point::max())
            return; // no member: add() arms it again
        next = std::max(next, last_fire + cfg.timer_slack);
        if (next >= armed_at)
            return;
        armed_at = next;
        timer.expires_at(next); // cancels the wait armed for later
        timer.async_wait([self = shared_from_this(), g = ++timer_generation](error_code ec) {
            self->on_timer(ec, g);
        });
    }

    void on_timer(error_code ec, std::uint64_t generation) {
        if (stopped || generation != timer_generation || ec == asio::error::operation_aborted)
            return;
        frame_guard guard(*this);
        armed_at = time_point::max();
        const time_point now = clock::now();
        last_fire = now;
        ++st.timer_wakeups;
        table.advance(now, sink());
        run_actions(now);
        arm();
    }

    // --- writing -----------------------------------------------------------------------------

    // Writes a, then b, as far as the socket takes them now and queues the rest (waiting for
    // writability). false: the write failed and the member ended.
    bool write(std::uint32_t slot, pool_member& m, const std::uint8_t* a, std::size_t na,
               const std::uint8_t* b, std::size_t nb, bool message) {
        std::size_t written = 0;
        if (!m.spill || m.spill->queued() == 0) {
            const std::array<asio::const_buffer, 2> buffers{asio::buffer(a, na),
                                                            asio::buffer(b, nb)};
            error_code ec;
            written = m.socket.write_some(buffers, ec);
            if (ec == asio::error::would_block || ec == asio::error::try_again) {
                written = 0;
            } else if (ec) {
                finish(slot, ending_of_transport(ec));
                return false;
            }
            if (written == na + nb)
                return true;
        }
        member_spill& s = m.spilled();
        const bool was_idle = s.queued() == 0;
        if (written < na)
            s.out.insert(s.out.end(), a + written, a + na);
        const std::size_t from_b = written > na ? written - na : 0;
        s.out.insert(s.out.end(), b + from_b, b + nb);
        st.queued_send_bytes += na + nb - written;
        if (message)
            s.message_ends.push_back(s.out.size());
        if (was_idle)
            wait_writable(slot, m);
        return true;
    }

    void wait_writable(std::uint32_t slot, pool_member& m) {
        wait<&impl::on_writable>(slot, m, asio::socket_base::wait_write);
    }

    // A wait holds the pool, not the member: the member may end (and its slot be reused, under
    // another generation) before the wait completes.
    template <void (impl::*OnReady)(std::uint32_t, std::uint32_t, error_code)>
    void wait(std::uint32_t slot, pool_member& m, asio::socket_base::wait_type what) {
        m.socket.async_wait(
            what, exact_size([self = shared_from_this(), slot, g = m.generation](error_code ec) {
                (self.get()->*OnReady)(slot, g, ec);
            }));
    }

    void on_writable(std::uint32_t slot, std::uint32_t generation, error_code ec) {
        if (stopped)
            return;
        frame_guard guard(*this);
        pool_member* m = live(slot, generation);
        if (!m || !m->spill)
            return;
        if (ec) {
            finish(slot, ending_of_transport(ec));
            return;
        }
        member_spill& s = *m->spill;
        const time_point now = clock::now();
        while (s.queued() != 0) {
            const std::size_t n =
                m->socket.write_some(asio::buffer(s.out.data() + s.out_offset, s.queued()), ec);
            if (ec == asio::error::would_block || ec == asio::error::try_again)
                break;
            if (ec) {
                finish(slot, ending_of_transport(ec));
                return;
            }
            s.out_offset += n;
            st.queued_send_bytes -= n;
        }
        std::size_t done = 0;
        while (done < s.message_ends.size() && s.message_ends[done] <= s.out_offset)
            ++done;
        s.message_ends.erase(s.message_ends.begin(), s.message_ends.begin() + done);
        if (s.ping_seq != 0 && s.ping_end <= s.out_offset) {
            const std::uint32_t seq = s.ping_seq;
            s.ping_seq = 0;
            table.on_ping_written(m->table_id, seq, now, sink());
            run_actions(now);
            if (m->ended)
                return;
        }
        if (s.queued() != 0) {
            compact(s);
            wait_writable(slot, *m);
            return;
        }
        s.out.clear();
        s.out_offset = 0;
        if (m->closing) {
            finish(slot, error::session_closed);
            return;
        }
        if (s.idle())
            m->spill.reset();
        arm();
    }

    // Drops the written front of `out` once it is most of the buffer.
    static void compact(member_spill& s) {
        if (s.out_offset < 4096 || s.out_offset < s.out.size() / 2)
            return;
        s.out.erase(s.out.begin(), s.out.begin() + static_cast<std::ptrdiff_t>(s.out_offset));
        for (auto& end : s.message_ends)
            end -= s.out_offset;
        if (s.ping_seq != 0)
            s.ping_end -= s.out_offset;
        s.out_offset = 0;
    }

    error_code send(pool_member_id id, std::string_view message) {
        pool_member* m = live(id);
        if (!m)
            return error::no_such_member;
        if (m->closing)
            return error::session_closed;
        const std::size_t chunk = cfg.session.chunk_size;
        const std::size_t frames = message.empty() ? 1 : (message.size() + chunk - 1) / chunk;
        const std::size_t bytes = message.size() + frames * frame_header_size;
        if (m->spill && m->spill->queued() != 0 &&
            m->spill->queued() + bytes > cfg.send_queue_limit)
            return error::send_buffer_full;
        ++st.messages_sent;
        const auto* p = reinterpret_cast<const std::uint8_t*>(message.data());
        std::size_t left = message.size();
        do {
            const std::size_t n = std::min(left, chunk);
            std::array<std::uint8_t, frame_header_size> header{};
            const bool fin = n == left;
            encode_header(frame_type::data, fin ? flag_fin : std::uint8_t{0},
                          static_cast<std::uint32_t>(n), header.data());
            if (!write(id.index, *m, header.data(), header.size(), p, n, fin))
                return {}; // accepted, and the ending counts it as unsent
            p += n;
            left -= n;
        } while (left != 0);
        arm();
        return {};
    }

    error_code close(pool_member_id id) {
        pool_member* m = live(id);
        if (!m)
            return error::no_such_member;
        if (m->closing)
            return {};
        m->closing = true;
        if (!m->spill || m->spill->queued() == 0)
            finish(id.index, error::session_closed);
        return {};
    }

    // --- reading -----------------------------------------------------------------------------

    // Readiness, not a read: no buffer is held while the peer is quiet. Sound with Asio's
    // edge-triggered epoll because on_readable reads until a short read, and the pool runs on
    // one thread (no readiness can be consumed between that read and this wait by another).
    void wait_readable(std::uint32_t slot, pool_member& m) {
        wait<&impl::on_readable>(slot, m, asio::socket_base::wait_read);
    }

    void on_readable(std::uint32_t slot, std::uint32_t generation, error_code ec) {
        if (stopped)
            return;
        frame_guard guard(*this);
        pool_member* m = live(slot, generation);
        if (!m)
            return;
        if (ec) {
            finish(slot, ending_of_transport(ec));
            return;
        }
        const time_point now = clock::now();
        bool traffic = false;
        bool drained = false;
        for (int reads = 0; reads < 16; ++reads) {
            const std::size_t n =
                m->socket.read_some(asio::buffer(scratch.get(), scratch_size), ec);
            if (ec == asio::error::would_block || ec == asio::error::try_again) {
                drained = true;
                break;
            }
            if (ec) {
                const bool mid_frame = m->spill && !m->spill->carry.empty();
                finish(slot, ec == asio::error::eof && mid_frame
                                 ? error_code(error::truncated_frame)
                                 : ending_of_transport(ec));
                return;
            }
            if (!consume(slot, *m, std::span<const std::uint8_t>(scratch.get(), n), now, traffic))
                return;
            if (n < scratch_size) {
                drained = true;
                break;
            }
        }
        if (traffic) {
            table.on_inbound(m->table_id, now, sink());
            run_actions(now);
            if (m->ended)
                return;
        }
        if (m->open && m->next_in_seq - 1 > m->acked) {
            // One cumulative ACK for everything this wake-up delivered.
            m->acked = m->next_in_seq - 1;
            std::array<std::uint8_t, frame_header_size + 8> ack{};
            encode(ack_frame{.delivered = m->acked}, ack);
            if (!write(slot, *m, ack.data(), ack.size(), nullptr, 0, false))
                return;
        }
        if (m->spill && m->spill->idle())
            m->spill.reset();
        if (drained)
            wait_readable(slot, *m);
        else // more is waiting: let the other members run first
            asio::post(ex, [self = shared_from_this(), slot, generation] {
                self->on_readable(slot, generation, {});
            });
        arm();
    }

    // Parses what arrived; false when the member ended on it.
    bool consume(std::uint32_t slot, pool_member& m, std::span<const std::uint8_t> bytes,
                 time_point now, bool& traffic) {
        if (m.spill && !m.spill->carry.empty()) {
            // Complete the cut frame first, taking only what it needs.
            auto& carry = m.spill->carry;
            for (;;) {
                const auto r = parse_frame(carry, cfg.session.max_frame_payload);
                if (r.st == parse_result::status::error) {
                    finish(slot, r.ec);
                    return false;
                }
                if (r.st == parse_result::status::frame) {
                    if (!on_frame(slot, m, r.value, now, traffic))
                        return false;
                    carry.clear(); // it held exactly the one frame
                    break;
                }
                const std::size_t take = std::min(r.need - carry.size(), bytes.size());
                carry.insert(carry.end(), bytes.begin(), bytes.begin() + take);
                bytes = bytes.subspan(take);
                if (carry.size() < r.need)
                    return true; // still cut
            }
        }
        while (!bytes.empty()) {
            if (m.open) { // the hot path: a whole DATA frame
                if (const auto d = peek_data_frame(bytes, cfg.session.max_frame_payload)) {
                    traffic = true;
                    if (!on_data(slot, m, d->payload, d->fin))
                        return false;
                    bytes = bytes.subspan(d->consumed);
                    continue;
                }
            }
            const auto r = parse_frame(bytes, cfg.session.max_frame_payload);
            if (r.st == parse_result::status::error) {
                finish(slot, r.ec);
                return false;
            }
            if (r.st == parse_result::status::need_more) {
                auto& carry = m.spilled().carry;
                carry.assign(bytes.begin(), bytes.end());
                carry.reserve(r.need);
                return true;
            }
            if (!on_frame(slot, m, r.value, now, traffic))
                return false;
            bytes = bytes.subspan(r.consumed);
        }
        return true;
    }

    bool on_frame(std::uint32_t slot, pool_member& m, const frame& f, time_point now,
                  bool& traffic) {
        if (!m.open && !std::holds_alternative<hello_frame>(f)) {
            finish(slot, error::data_before_hello);
            return false;
        }
        error_code err;
        switch (type_of(f)) {
        case frame_type::hello:
            err = on_hello(slot, m, std::get<hello_frame>(f));
            traffic = true;
            break;
        case frame_type::data: {
            traffic = true;
            const auto& d = std::get<data_frame>(f);
            return on_data(slot, m, d.payload, d.fin);
        }
        case frame_type::ping: {
            traffic = true;
            const auto& p = std::get<ping_frame>(f);
            std::array<std::uint8_t, frame_header_size + 16> pong{};
            encode(pong_frame{p.seq, p.send_time_us}, pong);
            ++st.pings_answered;
            return write(slot, m, pong.data(), pong.size(), nullptr, 0, false);
        }
        case frame_type::pong: {
            const auto seq = std::get<pong_frame>(f).seq;
            std::optional<duration> rtt;
            err = seq > 0xffffffffu ? error_code(error::unexpected_pong)
                                    : table.on_pong(m.table_id, static_cast<std::uint32_t>(seq),
                                                    now, sink(), &rtt);
            if (!err) {
                ++st.pongs_received;
                if (rtt) {
                    ++st.rtt_samples;
                    st.rtt_sum += *rtt;
                }
                run_actions(now);
                if (m.ended)
                    return false;
            }
            break;
        }
        case frame_type::ack:
            traffic = true;
            break;
        case frame_type::slow_down:
            traffic = true;
            // One interval for every member: one that must ping slower cannot stay.
            if (milliseconds(std::get<slow_down_frame>(f).min_interval_ms) >
                cfg.session.heartbeat.interval)
                err = error::incompatible_interval;
            break;
        case frame_type::close:
            err = error::peer_closed;
            break;
        }
        if (err) {
            finish(slot, err);
            return false;
        }
        return !m.ended;
    }

    error_code on_hello(std::uint32_t slot, pool_member& m, const hello_frame& h) {
        if (m.open)
            return error::malformed_frame;
        const auto verdict = accept_hello(cfg.session, h);
        if (verdict.ec)
            return verdict.ec;
        if (verdict.interval != cfg.session.heartbeat.interval)
            return error::incompatible_interval; // see session_pool.hpp: one interval per pool
        m.open = true;
        m.next_in_seq = h.first_seq;
        m.acked = h.first_seq - 1;
        ++st.open;
        if (cb.on_open)
            cb.on_open(pool_member_id{slot, m.generation});
        return {};
    }

    bool on_data(std::uint32_t slot, pool_member& m, std::span<const std::uint8_t> payload,
                 bool fin) {
        const bool assembling = m.spill && !m.spill->assembling.empty();
        const std::size_t so_far = assembling ? m.spill->assembling.size() : 0;
        if (so_far + payload.size() > cfg.session.max_message_size) {
            finish(slot, error::message_too_large);
            return false;
        }
        const auto* chars = reinterpret_cast<const char*>(payload.data());
        if (!fin) {
            m.spilled().assembling.append(chars, payload.size());
            return true;
        }
        ++m.next_in_seq;
        ++st.messages_received;
        const pool_member_id id{slot, m.generation};
        if (!assembling) {
            if (cb.on_message)
                cb.on_message(id, std::string_view(chars, payload.size()));
        } else {
            std::string whole = std::move(m.spill->assembling);
            m.spill->assembling = std::string();
            whole.append(chars, payload.size());
            if (cb.on_message)
                cb.on_message(id, whole);
        }
        return !m.ended;
    }

    void stop() {
        stopped = true;
        timer.cancel();
        for (auto& m : members) {
            if (!m)
                continue;
            error_code ignored;
            m->socket.close(ignored);
        }
    }
};

session_pool::session_pool(asio::io_context& ioc, session_pool_config config,
                           session_pool_callbacks callbacks) {
    if (auto invalid = validate(config))
        throw boost::system::system_error(error::invalid_config, invalid->message());
    impl_ = std::make_shared<impl>(ioc, std::move(config), std::move(callbacks));
}

session_pool::~session_pool() {
    impl_->stop();
}

pool_member_id session_pool::add(socket_type socket, boost::system::error_code& ec) {
    impl::frame_guard guard(*impl_);
    return impl_->add(std::move(socket), ec);
}

pool_member_id session_pool::add(asio::ip::tcp::socket socket, boost::system::error_code& ec) {
    ec = {};
    const auto endpoint = socket.local_endpoint(ec);
    if (ec)
        return {};
    const auto fd = socket.release(ec);
    if (ec)
        return {};
    socket_type own(impl_->ioc);
    own.assign(endpoint.protocol(), fd, ec);
    if (ec) {
        ::close(fd);
        return {};
    }
    return add(std::move(own), ec);
}

boost::system::error_code session_pool::send(pool_member_id id, std::string_view message) {
    impl::frame_guard guard(*impl_);
    return impl_->send(id, message);
}

boost::system::error_code session_pool::close(pool_member_id id) {
    impl::frame_guard guard(*impl_);
    return impl_->close(id);
}

std::optional<peer_state> session_pool::state(pool_member_id id) const {
    const pool_member* m = impl_->live(id);
    if (!m)
        return std::nullopt;
    return m->open ? impl_->table.state(m->table_id) : peer_state::connecting;
}

session_pool_stats session_pool::stats() const {
    return impl_->st;
}

const session_pool_config& session_pool::config() const noexcept {
    return impl_->cfg;
}

session_pool::executor_type session_pool::get_executor() const noexcept {
    return impl_->ex;
}

} // namespace heartbeat
