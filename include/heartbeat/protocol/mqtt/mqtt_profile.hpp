#pragma once
// MQTT 3.1.1 and 5 (client side) as a byte-stream profile: a session that keeps a broker
// connection alive and tells the application when the broker stops answering.
//
//   handshake  CONNECT with a keep-alive derived from the heartbeat config (the silence budget
//              rounded up to whole seconds, unless set), then CONNACK within handshake_timeout;
//              a refusal ends the session with a named error (unsupported_version,
//              client_id_rejected, server_unavailable, authentication_failed, not_authorized,
//              handshake_failed). A peer that hangs up first (not a broker) gives
//              handshake_failed; one that answers something that is not MQTT, malformed_frame.
//   heartbeat  PINGREQ -> PINGRESP, matched by order. Any inbound packet is traffic. The
//              broker's rule that it hears from us within 1.5 x keep-alive is kept even while
//              the broker's traffic keeps our monitor quiet: a PINGREQ goes out whenever we have
//              written nothing for a keep-alive (the server's Server Keep Alive, MQTT 5, wins).
//   messages   async_send takes one complete MQTT control packet the client may send (PUBLISH,
//              PUBACK, SUBSCRIBE, ...: mqtt::encode_publish and friends build them); CONNECT,
//              PINGREQ, DISCONNECT and AUTH are the session's own and refused (invalid_message).
//              async_receive delivers every other inbound packet whole (an mqtt_message).
//   goodbye    close(): DISCONNECT (normal), then a bounded wait for the broker to close. MQTT 5
//              after a protocol error: DISCONNECT with reason 0x81/0x82. After a verdict: none
//              (the will message, if any, is the broker's to publish).
#include <heartbeat/protocol/mqtt/mqtt_connect.hpp>
#include <heartbeat/protocol/mqtt/mqtt_control.hpp>
#include <heartbeat/protocol/mqtt/mqtt_packet.hpp>
#include <heartbeat/session/byte_stream_profile.hpp>

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace heartbeat {

struct mqtt_config : session_options {
    mqtt::protocol_version version = mqtt::protocol_version::v311;
    // Empty: the broker assigns one (MQTT 3.1.1 then needs clean_start).
    std::string client_id;
    bool clean_start = true;
    std::optional<std::string> username;
    std::optional<std::string> password;
    std::uint32_t session_expiry_s = 0; // MQTT 5
    // The keep-alive sent in CONNECT. Zero: the silence budget rounded up to whole seconds, so
    // the broker gives up on us about as fast as we give up on it (within 1.5 x that).
    std::chrono::seconds keep_alive{0};
};

std::optional<config_error> validate(const mqtt_config& c);

// One inbound MQTT control packet, whole (fixed header included).
struct mqtt_message {
    std::string payload; // e.g. mqtt::decode_publish(bytes, version, ec)
    mqtt::packet_type type{};
};

class mqtt_profile {
public:
    using config_type = mqtt_config;
    using message_type = mqtt_message;
    using send_options = no_send_options;
    using outgoing_tag = no_outgoing_tag;
    static constexpr const char* protocol_label = "mqtt"; // metrics label
    static constexpr ping_matching matching = ping_matching::in_order;
    static constexpr bool receive_payload_only = false;
    static constexpr bool pings_between_chunks = false; // a packet is written whole
    static constexpr std::size_t max_prefix = 0;
    static constexpr error closed_during_handshake = error::handshake_failed;

    static std::optional<config_error> validate(const mqtt_config& c) {
        return heartbeat::validate(c);
    }

    explicit mqtt_profile(const mqtt_config& c);

    std::size_t max_frame_size() const noexcept { return config_.max_message_size; }
    std::size_t chunk_size() const noexcept { return 64 * 1024; }
    // The keep-alive in force: CONNECT's, or the broker's once CONNACK told it.
    duration keep_alive() const noexcept { return keep_alive_; }

    template <class Ctx>
    void start(Ctx& ctx) {
        append_connect(ctx.control());
    }

    void encode_ping(std::vector<std::uint8_t>& out, std::uint64_t, time_point) {
        const auto bytes = mqtt::pingreq();
        out.insert(out.end(), bytes.begin(), bytes.end());
    }

    boost::system::error_code admit(std::string& payload, const no_send_options&,
                                    no_outgoing_tag&) const;

    std::size_t prefix(std::uint8_t*, std::size_t, bool) const noexcept { return 0; }
    std::span<const std::uint8_t> suffix(bool) const noexcept { return {}; }
    std::uint32_t replies_expected(const no_outgoing_tag&) const noexcept { return 0; }
    void goodbye(std::vector<std::uint8_t>& out, boost::system::error_code reason) const;

    template <class Ctx>
    frame_status parse(Ctx& ctx, std::span<const std::uint8_t> unparsed) {
        const mqtt::packet_scan r = mqtt::scan_packet(unparsed, config_.max_message_size);
        if (r.st == mqtt::packet_scan::status::need_more) // the whole size once the header is in
            return frame_status::need_more(r.header_size ? r.header_size + r.remaining_length : 0);
        if (r.st == mqtt::packet_scan::status::error)
            return frame_status::failed(r.ec);
        const auto packet = unparsed.first(r.consumed);
        if (!connacked_) {
            if (auto err = on_connack(r, packet))
                return frame_status::failed(err);
            if (auto err = ctx.handshake_done(config_.heartbeat.interval))
                return frame_status::failed(err);
            return frame_status::complete(r.consumed);
        }
        if (!mqtt::server_may_send(r.type, config_.version))
            return frame_status::failed(error::malformed_frame);
        if (r.type == mqtt::packet_type::pingresp) {
            if (auto err = ctx.reply(mqtt_message{}))
                return frame_status::failed(err);
        } else if (r.type == mqtt::packet_type::disconnect) {
            return frame_status::failed(error::peer_closed); // MQTT 5: the broker hangs up
        } else {
            ctx.traffic();
            ctx.deliver(mqtt_message{ctx.make_payload(packet), r.type});
        }
        return frame_status::complete(r.consumed);
    }

    // The broker hears from us at least once a keep-alive, whatever our monitor does.
    template <class Ctx>
    void before_write(Ctx&) {
        if (keep_alive_ > duration::zero())
            last_write_ = clock::now();
    }

    template <class Ctx>
    bool on_writer_idle(Ctx& ctx) {
        if (!connacked_ || keep_alive_ <= duration::zero())
            return false;
        const time_point due = last_write_ + keep_alive_;
        if (clock::now() >= due) {
            ctx.queue_keepalive_ping();
            return true;
        }
        ctx.wake_at(due);
        return false;
    }

private:
    void append_connect(std::vector<std::uint8_t>& out) const;
    boost::system::error_code on_connack(const mqtt::packet_scan& r,
                                         std::span<const std::uint8_t> packet);

    const mqtt_config& config_;
    duration keep_alive_{};
    time_point last_write_{};
    bool connacked_ = false;
};

static_assert(byte_stream_profile<mqtt_profile>);

} // namespace heartbeat
