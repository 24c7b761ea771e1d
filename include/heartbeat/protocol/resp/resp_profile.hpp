#pragma once
// The Redis serialization protocol (RESP2 and RESP3) as a byte-stream profile: a session that
// keeps a Redis connection healthy while the application pipelines its own commands through it.
//
//   handshake  RESP3: HELLO 3 [AUTH user pass] [SETNAME name], then SELECT db when configured;
//              RESP2: [AUTH [user] pass] [CLIENT SETNAME name] [SELECT db] PING. Each reply must
//              arrive within handshake_timeout; an error reply ends the session with
//              authentication_failed (WRONGPASS, NOAUTH, invalid password), not_authorized
//              (NOPERM), unsupported_version (NOPROTO: a server without RESP3) or
//              handshake_failed. A peer that hangs up first (not a Redis server) gives
//              handshake_failed; one that answers something that is not RESP, malformed_frame.
//   heartbeat  PING; its +PONG is matched by order (RESP replies carry no id), so pings
//              interleave correctly with the application's pipelined commands: the link records
//              what each reply will answer, in the order the bytes were written.
//   messages   async_send takes ONE command encoded as RESP (resp::command("INCR", "n")); it
//              completes with invalid_message for anything else, and for commands that break
//              the request/reply order (HELLO, RESET, MONITOR, CLIENT REPLY, SYNC/PSYNC; in
//              RESP2 also the pub/sub ones). async_receive delivers each reply (a resp_reply:
//              its exact bytes, read with resp::parse_value) in request order, and RESP3 push
//              messages (pub/sub, invalidations) as they come, marked `push`. Every reply and
//              push counts as traffic.
//   goodbye    none on the wire: close() half-closes and waits (bounded) for Redis to close.
//
// Blocking commands (BLPOP, XREAD BLOCK, WAIT...) hold every later reply, pings included: give
// them a timeout shorter than the silence budget, or run them on a session of their own.
#include <heartbeat/protocol/resp/resp_command.hpp>
#include <heartbeat/protocol/resp/resp_scanner.hpp>
#include <heartbeat/session/byte_stream_profile.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace heartbeat {

struct resp_config : session_options {
    // 3: HELLO 3 (RESP3, with push messages); 2: RESP2 (Redis < 6, or proxies without RESP3).
    int protocol = 3;
    // ACL user (Redis 6+); with a password and no user, the default user.
    std::string username;
    // Empty: no authentication.
    std::string password;
    // CLIENT SETNAME, so the connection is recognisable in CLIENT LIST. Empty: none.
    std::string client_name;
    // SELECT on connect when non-zero.
    unsigned database = 0;
};

std::optional<config_error> validate(const resp_config& c);

// One reply (or RESP3 push) exactly as received.
struct resp_reply {
    std::string payload; // one complete RESP value: resp::parse_value(payload, ec) reads it
    resp::reply_kind kind = resp::reply_kind::null;
    bool push = false; // out of band (RESP3 push): answers no request
    bool error() const noexcept {
        return kind == resp::reply_kind::simple_error || kind == resp::reply_kind::bulk_error;
    }
};

class resp_profile {
public:
    using config_type = resp_config;
    using message_type = resp_reply;
    using send_options = no_send_options;
    struct outgoing_tag {
        std::uint32_t replies = 1;
    };
    static constexpr const char* protocol_label = "resp"; // metrics label
    static constexpr ping_matching matching = ping_matching::in_order;
    static constexpr bool receive_payload_only = false;
    static constexpr bool pings_between_chunks = false; // a command is written whole
    static constexpr std::size_t max_prefix = 0;
    static constexpr error closed_during_handshake = error::handshake_failed;

    static std::optional<config_error> validate(const resp_config& c) {
        return heartbeat::validate(c);
    }

    explicit resp_profile(const resp_config& c) : config_(c), scanner_(c.max_message_size) {}

    std::size_t max_frame_size() const noexcept { return config_.max_message_size; }
    std::size_t chunk_size() const noexcept { return 64 * 1024; }

    // The handshake commands; their replies are the profile's own, before any ping's.
    template <class Ctx>
    void start(Ctx& ctx) {
        handshake_replies_ = append_handshake(ctx.control());
    }

    void encode_ping(std::vector<std::uint8_t>& out, std::uint64_t, time_point);

    boost::system::error_code admit(std::string& payload, const no_send_options&,
                                    outgoing_tag& tag) const;

    std::size_t prefix(std::uint8_t*, std::size_t, bool) const noexcept { return 0; }
    std::span<const std::uint8_t> suffix(bool) const noexcept { return {}; }
    std::uint32_t replies_expected(const outgoing_tag& tag) const noexcept { return tag.replies; }
    void goodbye(std::vector<std::uint8_t>&, boost::system::error_code) noexcept {}

    template <class Ctx>
    frame_status parse(Ctx& ctx, std::span<const std::uint8_t> unparsed) {
        const resp::scan_result r = scanner_.scan(unparsed);
        if (r.st == resp::scan_result::status::need_more)
            return frame_status::need_more();
        if (r.st == resp::scan_result::status::error)
            return frame_status::failed(r.ec);
        const auto bytes = unparsed.first(r.consumed);
        if (r.is_push()) {
            ctx.traffic();
            ctx.deliver(resp_reply{ctx.make_payload(bytes), r.kind, true});
        } else if (handshake_replies_ != 0) {
            if (r.is_error())
                return frame_status::failed(handshake_error(bytes));
            if (--handshake_replies_ == 0)
                if (auto err = ctx.handshake_done(config_.heartbeat.interval))
                    return frame_status::failed(err);
        } else if (auto err = ctx.reply(resp_reply{ctx.make_payload(bytes), r.kind, false})) {
            return frame_status::failed(err);
        }
        return frame_status::complete(r.consumed);
    }

private:
    std::uint32_t append_handshake(std::vector<std::uint8_t>& out) const;
    static boost::system::error_code handshake_error(std::span<const std::uint8_t> reply);

    const resp_config& config_;
    resp::resp_scanner scanner_;
    std::uint32_t handshake_replies_ = 0;
};

static_assert(byte_stream_profile<resp_profile>);

} // namespace heartbeat
