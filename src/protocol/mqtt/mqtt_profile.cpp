#include <heartbeat/protocol/mqtt/mqtt_profile.hpp>

#include <algorithm>

namespace heartbeat {

namespace {

std::uint16_t keep_alive_seconds(const mqtt_config& c) {
    const auto chosen = c.keep_alive > std::chrono::seconds::zero()
                            ? c.keep_alive
                            : std::chrono::ceil<std::chrono::seconds>(silence_budget(c.heartbeat));
    return static_cast<std::uint16_t>(std::clamp<long long>(chosen.count(), 1, 65535));
}

mqtt::connect_options connect_options_of(const mqtt_config& c) {
    mqtt::connect_options o;
    o.version = c.version;
    o.client_id = c.client_id;
    o.clean_start = c.clean_start;
    o.keep_alive_s = keep_alive_seconds(c);
    o.username = c.username;
    o.password = c.password;
    o.session_expiry_s = c.session_expiry_s;
    return o;
}

} // namespace

std::optional<config_error> validate(const mqtt_config& c) {
    if (auto e = validate(static_cast<const session_options&>(c), "mqtt_config"))
        return e;
    if (c.keep_alive < std::chrono::seconds::zero() || c.keep_alive > std::chrono::seconds(65535))
        return config_error{"mqtt_config.keep_alive", "must be in [0 s, 65535 s]"};
    if (auto why = mqtt::validate(connect_options_of(c)))
        return config_error{"mqtt_config", *why};
    return std::nullopt;
}

mqtt_profile::mqtt_profile(const mqtt_config& c)
    : config_(c), keep_alive_(std::chrono::seconds(keep_alive_seconds(c))) {}

void mqtt_profile::append_connect(std::vector<std::uint8_t>& out) const {
    const std::string connect = mqtt::encode_connect(connect_options_of(config_));
    out.insert(out.end(), connect.begin(), connect.end());
}

boost::system::error_code mqtt_profile::on_connack(const mqtt::packet_scan& r,
                                                   std::span<const std::uint8_t> packet) {
    if (r.type == mqtt::packet_type::auth)
        return error::handshake_failed; // enhanced authentication: not supported
    if (r.type != mqtt::packet_type::connack)
        return error::malformed_frame;
    boost::system::error_code ec;
    const auto ack = mqtt::decode_connack(packet, config_.version, ec);
    if (!ack)
        return ec ? ec : boost::system::error_code(error::malformed_frame);
    if (auto refused = mqtt::connack_error(ack->code, config_.version))
        return refused;
    if (ack->server_keep_alive_s)
        keep_alive_ = std::chrono::seconds(*ack->server_keep_alive_s);
    connacked_ = true;
    return {};
}

boost::system::error_code mqtt_profile::admit(std::string& payload, const no_send_options&,
                                              no_outgoing_tag&) const {
    const auto bytes = std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(payload.data()), payload.size());
    const mqtt::packet_scan r = mqtt::scan_packet(bytes, config_.max_message_size);
    if (r.st != mqtt::packet_scan::status::complete || r.consumed != payload.size())
        return error::invalid_message;
    switch (r.type) {
    case mqtt::packet_type::publish:
    case mqtt::packet_type::puback:
    case mqtt::packet_type::pubrec:
    case mqtt::packet_type::pubrel:
    case mqtt::packet_type::pubcomp:
    case mqtt::packet_type::subscribe:
    case mqtt::packet_type::unsubscribe:
        return {};
    default: // the session's own (CONNECT, PINGREQ, DISCONNECT, AUTH) or a broker's packet
        return error::invalid_message;
    }
}

void mqtt_profile::goodbye(std::vector<std::uint8_t>& out, boost::system::error_code reason) const {
    std::string bytes;
    if (reason == error::session_closed) {
        bytes = mqtt::encode_disconnect(config_.version, 0x00);
    } else if (config_.version == mqtt::protocol_version::v5 &&
               (reason == error::malformed_frame || reason == error::frame_too_large)) {
        bytes = mqtt::encode_disconnect(config_.version, 0x81); // malformed packet
    } else if (config_.version == mqtt::protocol_version::v5 && reason == error::unexpected_reply) {
        bytes = mqtt::encode_disconnect(config_.version, 0x82); // protocol error
    }
    out.insert(out.end(), bytes.begin(), bytes.end());
}

} // namespace heartbeat
