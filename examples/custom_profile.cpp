// A heartbeat for your own protocol: a user-defined profile.
//
// The service here speaks JSON lines: one JSON object per line, its heartbeat {"ping":N}
// answered by {"pong":N} (matched by id, so replies may come in any order), anything else an
// application message. A profile tells the session only what differs from every other protocol
// (session/byte_stream_profile.hpp): how a ping is written, how one frame is recognised among
// the inbound bytes and what it is (a pong, the peer's ping, traffic, a message), how a message
// is framed. The session core does the rest: timers, verdicts, RTT, queues, back-pressure,
// completion tokens, the goodbye.
//
// The example runs a tiny JSON-lines server in the same process, talks to it through the
// profile's session, then the server stops answering and the session declares it dead.
#include <heartbeat/session/stream_session_impl.hpp> // the session's templates, for a new profile

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <charconv>
#include <cstdio>

namespace asio = boost::asio;
namespace hb = heartbeat;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;

// ---- the profile ------------------------------------------------------------------------------

struct json_lines_config : hb::session_options { // heartbeat, limits, timeouts: every session's
    std::size_t max_line = 64 * 1024;
};

struct json_line {
    std::string payload; // one JSON object, without its newline
};

class json_lines_profile {
public:
    using config_type = json_lines_config;
    using message_type = json_line;
    using send_options = hb::no_send_options;
    using outgoing_tag = hb::no_outgoing_tag;
    static constexpr hb::ping_matching matching = hb::ping_matching::by_id;
    static constexpr bool receive_payload_only = true; // async_receive gives the line itself
    static constexpr bool pings_between_chunks = false;
    static constexpr std::size_t max_prefix = 0;

    static std::optional<hb::config_error> validate(const json_lines_config& c) {
        return hb::validate(c, "json_lines_config");
    }
    explicit json_lines_profile(const json_lines_config& c) : max_line_(c.max_line) {}
    std::size_t max_frame_size() const noexcept { return max_line_ + 1; }
    std::size_t chunk_size() const noexcept { return 64 * 1024; }

    template <class Ctx>
    void start(Ctx& ctx) { // no handshake: the heartbeat starts at once
        (void)ctx.handshake_done(ctx.config().heartbeat.interval);
    }

    void encode_ping(std::vector<std::uint8_t>& out, std::uint64_t seq, hb::time_point) {
        append(out, "{\"ping\":" + std::to_string(seq) + "}\n");
    }

    boost::system::error_code admit(std::string& line, const hb::no_send_options&,
                                    hb::no_outgoing_tag&) const {
        if (line.find('\n') != std::string::npos || line.size() > max_line_)
            return hb::error::invalid_message;
        return {};
    }
    std::size_t prefix(std::uint8_t*, std::size_t, bool) const noexcept { return 0; }
    std::span<const std::uint8_t> suffix(bool) const noexcept {
        static constexpr std::uint8_t newline[] = {'\n'};
        return newline;
    }
    std::uint32_t replies_expected(const hb::no_outgoing_tag&) const noexcept { return 0; }
    void goodbye(std::vector<std::uint8_t>&, boost::system::error_code) {}

    // One line from the start of `in`: a pong, the peer's ping (answered here), or a message.
    template <class Ctx>
    hb::frame_status parse(Ctx& ctx, std::span<const std::uint8_t> in) {
        const std::string_view bytes(reinterpret_cast<const char*>(in.data()), in.size());
        const auto newline = bytes.find('\n');
        if (newline == std::string_view::npos)
            return in.size() > max_line_ ? hb::frame_status::failed(hb::error::frame_too_large)
                                         : hb::frame_status::need_more();
        const std::string_view line = bytes.substr(0, newline);
        if (const auto seq = number_after(line, "{\"pong\":")) {
            if (auto err = ctx.pong(*seq)) // a pong for a ping we never sent ends the session
                return hb::frame_status::failed(err);
        } else if (const auto peer_ping = number_after(line, "{\"ping\":")) {
            append(ctx.control(), "{\"pong\":" + std::to_string(*peer_ping) + "}\n");
            ctx.wake_writer();
            ctx.traffic();
        } else {
            ctx.traffic();
            ctx.deliver(json_line{ctx.make_payload(in.first(newline))});
        }
        return hb::frame_status::complete(newline + 1);
    }

private:
    static void append(std::vector<std::uint8_t>& out, const std::string& s) {
        out.insert(out.end(), s.begin(), s.end());
    }
    static std::optional<std::uint64_t> number_after(std::string_view line, std::string_view key) {
        if (!line.starts_with(key) || !line.ends_with("}"))
            return std::nullopt;
        std::uint64_t n = 0;
        const auto digits = line.substr(key.size(), line.size() - key.size() - 1);
        const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
        if (ec != std::errc() || end != digits.data() + digits.size())
            return std::nullopt;
        return n;
    }

    std::size_t max_line_;
};

static_assert(hb::byte_stream_profile<json_lines_profile>);
using json_lines_session = hb::session<hb::stream_link<json_lines_profile, tcp::socket>>;

// ---- a tiny JSON-lines service to talk to ------------------------------------------------------

// Answers pings, echoes messages with "echo": true, and stops answering after `answer` lines.
asio::awaitable<void> json_lines_server(tcp::socket peer, int answer) {
    std::string buffer;
    for (int n = 0; n < answer; ++n) {
        const std::size_t end = co_await asio::async_read_until(peer, asio::dynamic_buffer(buffer),
                                                                '\n', asio::use_awaitable);
        std::string line = buffer.substr(0, end - 1);
        buffer.erase(0, end);
        std::string reply = line.starts_with("{\"ping\":") ? "{\"pong\":" + line.substr(8)
                                                           : "{\"echo\":true," + line.substr(1);
        co_await asio::async_write(peer, asio::buffer(reply + "\n"), asio::use_awaitable);
    }
    asio::steady_timer hang(peer.get_executor(), std::chrono::hours(1)); // alive, but silent
    co_await hang.async_wait(asio::use_awaitable);
}

int main() {
    asio::io_context ioc;
    tcp::acceptor acceptor(ioc, {asio::ip::make_address("127.0.0.1"), 0});
    tcp::socket client_socket(ioc);
    client_socket.connect(acceptor.local_endpoint());
    asio::co_spawn(ioc, json_lines_server(acceptor.accept(), 12), asio::detached);

    json_lines_config config;
    config.heartbeat.interval = 100ms;
    config.heartbeat.pong_timeout = 100ms;
    config.heartbeat.max_missed = 3; // budget 400 ms
    hb::session_callbacks on;
    on.on_rtt = [](hb::duration rtt, const hb::rtt_estimator&) {
        std::printf("pong after %.3f ms\n", std::chrono::duration<double, std::milli>(rtt).count());
    };
    json_lines_session session(std::move(client_socket), config, on);
    boost::system::error_code ended;
    session.async_run([&](boost::system::error_code ec) { ended = ec; });
    asio::co_spawn(
        ioc,
        [&]() -> asio::awaitable<void> {
            for (int i = 1; i <= 3; ++i) {
                co_await session.async_send("{\"order\":" + std::to_string(i) + "}",
                                            asio::use_awaitable);
                const std::string reply = co_await session.async_receive(asio::use_awaitable);
                std::printf("reply: %s\n", reply.c_str());
            }
        },
        asio::detached);
    ioc.run_for(10s);
    const auto stats = session.stats();
    std::printf("session ended: %s after %llu pongs\n", hb::error_name(ended),
                static_cast<unsigned long long>(stats.heartbeat.pongs_received));
    return ended == hb::error::peer_dead && stats.heartbeat.pongs_received > 0 ? 0 : 1;
}
