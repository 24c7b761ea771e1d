#include "client_options.hpp"

#include "duration_arg.hpp"
#include "endpoint_arg.hpp"
#include "usage_error.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/ssl/context.hpp>

#include <stdexcept>
#include <utility>

namespace heartbeat::cli {
namespace {

duration duration_flag(const char* flag, const std::string& text) {
    try {
        return parse_duration(text);
    } catch (const std::invalid_argument& e) {
        throw usage_error(flag, e.what());
    }
}

// heartbeat::validate(client_config) speaks in library fields; users typed flags. The session
// fields are checked (and named) by make_session_config first; they are listed here too in case
// the client's own validation ever tightens them.
const char* flag_of(const std::string& field) {
    static constexpr std::pair<std::string_view, const char*> table[] = {
        {"client_config.session.heartbeat.interval", "--interval"},
        {"client_config.session.heartbeat.pong_timeout", "--timeout"},
        {"client_config.session.heartbeat.max_missed", "--misses"},
        {"client_config.session.heartbeat.jitter", "--jitter"},
        {"client_config.backoff.initial", "--backoff-initial"},
        {"client_config.backoff.max", "--backoff-max"},
        {"client_config.endpoints.min_dwell", "--min-dwell"},
    };
    for (const auto& [name, flag] : table)
        if (field == name)
            return flag;
    return nullptr;
}

} // namespace

client_config make_client_config(const heartbeat_flags& heartbeat, const supervisor_flags& sup) {
    client_config c;
    c.session = make_session_config(heartbeat);
    c.endpoints.failback = sup.failback;
    c.endpoints.min_dwell = duration_flag("--min-dwell", sup.min_dwell);
    c.backoff.initial = duration_flag("--backoff-initial", sup.backoff_initial);
    c.backoff.max = duration_flag("--backoff-max", sup.backoff_max);
    if (!sup.give_up_after.empty()) {
        c.give_up.max_downtime = duration_flag("--give-up-after", sup.give_up_after);
        // In the library 0 means "never"; on the command line that is what leaving it out says.
        if (c.give_up.max_downtime <= duration::zero())
            throw usage_error("--give-up-after", "must be > 0 (leave it out to retry forever)");
    }
    if (sup.insecure && !sup.ca_file.empty())
        throw usage_error("--insecure", "cannot be combined with --ca-file (which verifies)");
    c.websocket.verify_certificate = !sup.insecure;
    if (!sup.ca_file.empty()) {
        auto ctx =
            std::make_shared<boost::asio::ssl::context>(boost::asio::ssl::context::tls_client);
        boost::system::error_code ec;
        ctx->load_verify_file(sup.ca_file, ec);
        if (ec)
            throw usage_error("--ca-file", "cannot load CA certificates from " +
                                               quote_arg(sup.ca_file) + ": " + ec.message());
        c.websocket.tls_context = std::move(ctx);
    }
    if (auto e = validate(c)) {
        if (const char* flag = flag_of(e->field))
            throw usage_error(flag, e->reason + " (" + e->field + ")");
        throw usage_error(e->field, e->reason);
    }
    return c;
}

// ws://HOST[:PORT][/PATH] and wss://...: the library's parser, plus the tool's rule that port 0
// cannot be connected to.
endpoint make_uri_endpoint(const std::string& text) {
    std::string why;
    auto e = parse_endpoint(text, &why);
    if (!e)
        throw usage_error("ENDPOINT", "invalid endpoint " + quote_arg(text) + " (" + why + ")");
    if (e->port == "0")
        throw usage_error("ENDPOINT", "invalid endpoint " + quote_arg(text) +
                                          " (port must be a number in 1..65535)");
    return *e;
}

std::vector<endpoint> make_endpoints(const std::vector<std::string>& args) {
    if (args.empty())
        throw usage_error("ENDPOINT", "at least one HOST:PORT is required");
    std::vector<endpoint> out;
    for (const auto& text : args) {
        if (text.find("://") != std::string::npos) {
            out.push_back(make_uri_endpoint(text));
            continue;
        }
        host_port hp;
        try {
            hp = parse_host_port(text, false);
        } catch (const std::invalid_argument& err) {
            throw usage_error("ENDPOINT", err.what());
        }
        endpoint e;
        e.host = hp.host;
        e.port = std::to_string(hp.port);
        e.label = text;
        boost::system::error_code ec;
        const auto address = boost::asio::ip::make_address(hp.host, ec);
        if (!ec) // an address literal needs no resolver; a name is resolved on every attempt
            e.resolved = boost::asio::ip::tcp::endpoint(address, hp.port);
        out.push_back(std::move(e));
    }
    return out;
}

unsigned parse_send_rate(std::string_view text) {
    const unsigned rate = parse_count(text);
    if (rate > max_send_rate)
        throw std::invalid_argument("must be in [0, " + std::to_string(max_send_rate) +
                                    "] messages per second (0: off)");
    return rate;
}

} // namespace heartbeat::cli
