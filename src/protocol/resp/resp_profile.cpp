#include <heartbeat/protocol/resp/resp_profile.hpp>
#include <heartbeat/protocol/resp/resp_value.hpp>

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

namespace heartbeat {

std::optional<config_error> validate(const resp_config& c) {
    if (auto e = validate(static_cast<const session_options&>(c), "resp_config"))
        return e;
    if (c.protocol != 2 && c.protocol != 3)
        return config_error{"resp_config.protocol", "must be 2 or 3"};
    if (!c.username.empty() && c.password.empty())
        return config_error{"resp_config.password", "must be set when username is"};
    return std::nullopt;
}

void resp_profile::encode_ping(std::vector<std::uint8_t>& out, std::uint64_t, time_point) {
    static constexpr std::string_view ping = "*1\r\n$4\r\nPING\r\n";
    out.insert(out.end(), ping.begin(), ping.end());
}

namespace {

bool is(std::string_view name, std::string_view what) {
    return name == what;
}

// Commands after which replies no longer follow requests one for one, or which change the
// protocol under the session.
bool breaks_reply_order(const resp::command_info& c, bool resp3) {
    if (is(c.name, "HELLO") || is(c.name, "RESET") || is(c.name, "MONITOR") || is(c.name, "SYNC") ||
        is(c.name, "PSYNC"))
        return true;
    if (is(c.name, "CLIENT") && c.arguments >= 2)
        return true; // checked precisely by the caller (CLIENT REPLY only)
    return resp3 ? !resp::supported_in_resp3(c) : !resp::supported_in_resp2(c);
}

std::string upper(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char ch) { return static_cast<char>(std::toupper(ch)); });
    return out;
}

// A command as RESP: an array of bulk strings.
void append_array(std::string& out, const std::vector<std::string_view>& args) {
    out += '*' + std::to_string(args.size()) + "\r\n";
    for (const std::string_view a : args) {
        out += '$' + std::to_string(a.size()) + "\r\n";
        out.append(a);
        out += "\r\n";
    }
}

// The second argument of a command (its subcommand), upper-cased; empty when there is none.
std::string subcommand(std::string_view bytes) {
    boost::system::error_code ec;
    std::optional<resp::value> v = resp::parse_value(bytes, ec);
    if (!v || v->elements.size() < 2)
        return {};
    return upper(v->elements[1].string);
}

} // namespace

boost::system::error_code resp_profile::admit(std::string& payload, const no_send_options&,
                                              outgoing_tag& tag) const {
    boost::system::error_code ec;
    const auto info = resp::inspect_command(payload, ec);
    if (!info)
        return error::invalid_message;
    const bool resp3 = config_.protocol == 3;
    if (is(info->name, "CLIENT")) {
        if (subcommand(payload) == "REPLY")
            return error::invalid_message;
    } else if (breaks_reply_order(*info, resp3)) {
        return error::invalid_message;
    }
    tag.replies = static_cast<std::uint32_t>(resp::expected_replies(*info, resp3));
    return {};
}

std::uint32_t resp_profile::append_handshake(std::vector<std::uint8_t>& out) const {
    std::string bytes;
    std::uint32_t replies = 0;
    const std::string user = config_.username.empty() ? "default" : config_.username;
    const std::string database = std::to_string(config_.database);
    if (config_.protocol == 3) {
        std::vector<std::string_view> hello{"HELLO", "3"};
        if (!config_.password.empty())
            hello.insert(hello.end(), {"AUTH", user, config_.password});
        if (!config_.client_name.empty())
            hello.insert(hello.end(), {"SETNAME", config_.client_name});
        append_array(bytes, hello);
        ++replies;
    } else {
        if (!config_.password.empty()) {
            if (config_.username.empty())
                append_array(bytes, {"AUTH", config_.password});
            else
                append_array(bytes, {"AUTH", config_.username, config_.password});
            ++replies;
        }
        if (!config_.client_name.empty()) {
            append_array(bytes, {"CLIENT", "SETNAME", config_.client_name});
            ++replies;
        }
    }
    if (config_.database != 0) {
        append_array(bytes, {"SELECT", database});
        ++replies;
    }
    if (config_.protocol == 2) {
        append_array(bytes, {"PING"}); // proves the peer speaks RESP
        ++replies;
    }
    out.insert(out.end(), bytes.begin(), bytes.end());
    return replies;
}

boost::system::error_code resp_profile::handshake_error(std::span<const std::uint8_t> reply) {
    const std::string_view text(reinterpret_cast<const char*>(reply.data()), reply.size());
    const auto has = [&](std::string_view what) { return text.find(what) != text.npos; };
    if (has("WRONGPASS") || has("NOAUTH") || has("invalid password") || has("invalid username"))
        return error::authentication_failed;
    if (has("NOPERM"))
        return error::not_authorized;
    if (has("NOPROTO"))
        return error::unsupported_version;
    return error::handshake_failed;
}

} // namespace heartbeat
