#pragma once
// Line-oriented text protocols as a byte-stream profile, for the many services that answer a
// ping line with a pong line (Redis inline commands, IRC-like chat, SMTP/POP3-style NOOP, home-
// grown TCP services): configurable ping line and expected reply (exact or prefix), CRLF or LF,
// a maximum line length.
//
//   heartbeat  the ping line; a line matching the expected reply while a ping is awaited is its
//              pong (matched by order). No handshake: the monitor starts at once.
//   messages   async_send takes one line without its terminator (invalid_message when it holds
//              CR or LF or is too long); async_receive delivers every other line as a string.
//              Every line counts as traffic.
//   goodbye    close(): the configured goodbye line (e.g. QUIT), if any, then a bounded wait for
//              the peer to close.
#include <heartbeat/protocol/line/line_scanner.hpp>
#include <heartbeat/session/byte_stream_profile.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace heartbeat {

struct line_config : session_options {
    std::string ping = "PING";
    std::string pong = "PONG";
    line::match_kind match = line::match_kind::exact;
    line::line_ending ending = line::line_ending::crlf;
    std::size_t max_line_length = 64 * 1024;
    std::string goodbye; // a line sent by close(), e.g. "QUIT"; empty: none
};

std::optional<config_error> validate(const line_config& c);

struct line_message {
    std::string payload; // the line, without its terminator
};

class line_profile {
public:
    using config_type = line_config;
    using message_type = line_message;
    using send_options = no_send_options;
    using outgoing_tag = no_outgoing_tag;
    static constexpr const char* protocol_label = "line"; // metrics label
    static constexpr ping_matching matching = ping_matching::in_order;
    static constexpr bool receive_payload_only = true;
    static constexpr bool pings_between_chunks = false; // a line is written whole
    static constexpr std::size_t max_prefix = 0;

    static std::optional<config_error> validate(const line_config& c) {
        return heartbeat::validate(c);
    }

    explicit line_profile(const line_config& c)
        : config_(c), scanner_(c.ending, c.max_line_length) {}

    std::size_t max_frame_size() const noexcept { return config_.max_line_length + 2; }
    std::size_t chunk_size() const noexcept { return 64 * 1024; }

    template <class Ctx>
    void start(Ctx& ctx) {
        if (auto err = ctx.handshake_done(config_.heartbeat.interval))
            (void)err; // cannot fail at start: the monitor's first step asks for nothing
    }

    void encode_ping(std::vector<std::uint8_t>& out, std::uint64_t, time_point) const {
        append_line(out, config_.ping);
    }

    boost::system::error_code admit(std::string& payload, const no_send_options&,
                                    no_outgoing_tag&) const noexcept {
        return line::validate_outgoing_line(payload, config_.max_line_length);
    }

    std::size_t prefix(std::uint8_t*, std::size_t, bool) const noexcept { return 0; }
    std::span<const std::uint8_t> suffix(bool fin) const noexcept;
    std::uint32_t replies_expected(const no_outgoing_tag&) const noexcept { return 0; }

    void goodbye(std::vector<std::uint8_t>& out, boost::system::error_code reason) const {
        if (reason == error::session_closed && !config_.goodbye.empty())
            append_line(out, config_.goodbye);
    }

    template <class Ctx>
    frame_status parse(Ctx& ctx, std::span<const std::uint8_t> unparsed) {
        const line::line_scan r = scanner_.scan(unparsed);
        if (r.st == line::line_scan::status::need_more)
            return frame_status::need_more();
        if (r.st == line::line_scan::status::error)
            return frame_status::failed(r.ec);
        if (ctx.awaiting_reply() && line::reply_matches(r.line, config_.pong, config_.match)) {
            if (auto err = ctx.reply(line_message{}))
                return frame_status::failed(err);
        } else {
            ctx.traffic();
            const auto* data = reinterpret_cast<const std::uint8_t*>(r.line.data());
            ctx.deliver(line_message{ctx.make_payload({data, r.line.size()})});
        }
        return frame_status::complete(r.consumed);
    }

private:
    void append_line(std::vector<std::uint8_t>& out, std::string_view text) const;

    const line_config& config_;
    line::line_scanner scanner_;
};

static_assert(byte_stream_profile<line_profile>);

} // namespace heartbeat
