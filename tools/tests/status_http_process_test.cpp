// `--http` end to end: the real `heartbeat` binary, requests over real loopback sockets (plain
// POSIX sockets, so the client shares no code with the server). Every read is bounded by a
// deadline and every child is killed by its PID and reaped.
#include "cli_process_support.hpp"

#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

namespace {

using namespace heartbeat::cli_test;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// A connected loopback TCP socket, closed on destruction.
class tcp_client {
public:
    explicit tcp_client(const std::string& address) {
        fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_port = htons(static_cast<std::uint16_t>(std::stoi(port_of(address))));
        ::inet_pton(AF_INET, address.substr(0, address.rfind(':')).c_str(), &a.sin_addr);
        connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    }
    ~tcp_client() { ::close(fd_); }
    tcp_client(const tcp_client&) = delete;
    tcp_client& operator=(const tcp_client&) = delete;

    bool connected() const { return connected_; }

    bool send_all(const std::string& data) {
        std::size_t sent = 0;
        while (sent < data.size()) {
            const ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
            if (n <= 0)
                return false;
            sent += static_cast<std::size_t>(n);
        }
        return true;
    }

    // Appends what arrives to `buf` until `done(buf)`, EOF (eof() then true) or the deadline.
    template <class Done>
    bool read_until(std::string& buf, std::chrono::milliseconds limit, Done done) {
        const auto deadline = steady::now() + limit;
        while (!done(buf)) {
            const auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
            if (left <= 0ms)
                return false;
            pollfd p{fd_, POLLIN, 0};
            if (::poll(&p, 1, static_cast<int>(left.count())) <= 0)
                continue;
            char chunk[16384];
            const ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
            if (n <= 0) {
                eof_ = true;
                return done(buf);
            }
            buf.append(chunk, static_cast<std::size_t>(n));
        }
        return true;
    }

    bool eof() const { return eof_; }

private:
    int fd_ = -1;
    bool connected_ = false;
    bool eof_ = false;
};

struct http_response {
    int status = 0;
    std::string head; // status line and headers
    std::string body;

    std::string header(const std::string& name) const {
        const auto at = head.find("\r\n" + name + ": ");
        if (at == std::string::npos)
            return {};
        const auto from = at + name.size() + 4;
        return head.substr(from, head.find("\r\n", from) - from);
    }
};

// Sends `request` as is and reads one response (its Content-Length decides where it ends).
std::optional<http_response> http_exchange(tcp_client& c, const std::string& request,
                                           bool head_only = false) {
    if (!c.send_all(request))
        return std::nullopt;
    std::string buf;
    const auto complete = [&](const std::string& b) {
        const auto end = b.find("\r\n\r\n");
        if (end == std::string::npos)
            return false;
        const auto cl = b.find("Content-Length: ");
        if (head_only || cl == std::string::npos || cl > end)
            return true;
        return b.size() >= end + 4 + std::stoul(b.substr(cl + 16));
    };
    if (!c.read_until(buf, 10s, complete) || !complete(buf))
        return std::nullopt;
    http_response r;
    const auto end = buf.find("\r\n\r\n");
    r.head = buf.substr(0, end + 2);
    r.body = buf.substr(end + 4);
    r.status = std::stoi(buf.substr(9, 3));
    return r;
}

std::optional<http_response> get(const std::string& address, const std::string& target,
                                 const std::string& method = "GET") {
    tcp_client c(address);
    if (!c.connected())
        return std::nullopt;
    return http_exchange(c, method + " " + target + " HTTP/1.1\r\nHost: " + address + "\r\n\r\n",
                         method == "HEAD");
}

const std::vector<std::string> fast = {"--interval", "300ms",    "--timeout",
                                       "300ms",      "--misses", "3"};

// `heartbeat watch ENDPOINT --http 127.0.0.1:0 --json` and the address it reported.
struct watch_with_http {
    std::unique_ptr<child_process> process;
    std::string http;
};

watch_with_http start_watch_with_http(const std::string& endpoint) {
    std::vector<std::string> args = {"watch", endpoint, "--json", "--http", "127.0.0.1:0"};
    args.insert(args.end(), fast.begin(), fast.end());
    watch_with_http w{std::make_unique<child_process>(args), ""};
    if (const auto e = next_event(*w.process, "http_listening", 10s)) {
        w.http = e->str("address");
        EXPECT_EQ(e->str("url"), "http://" + w.http + "/");
    }
    return w;
}

TEST(StatusHttpProcess, BadHttpAddressesAreUsageErrors) {
    for (const auto& [command, bad] :
         std::vector<std::pair<std::string, std::string>>{{"watch", "nonsense"},
                                                          {"watch", "127.0.0.1"},
                                                          {"serve", "127.0.0.1:99999"},
                                                          {"serve", ""},
                                                          {"watch", "[::1:80"}}) {
        std::vector<std::string> args = {command};
        if (command == "watch")
            args.push_back("127.0.0.1:1");
        args.insert(args.end(), {"--http", bad});
        child_process p(args);
        EXPECT_EQ(p.wait_exit(10s), std::optional<int>(2)) << command << " --http " << bad;
        const std::string err = p.read_stderr(5s);
        EXPECT_NE(err.find("--http"), std::string::npos) << err;
    }
}

TEST(StatusHttpProcess, AnAddressInUseIsARuntimeFailure) {
    auto server = start_serve({"--http", "127.0.0.1:0"});
    ASSERT_FALSE(server.endpoint.empty());
    // serve's own heartbeat port is taken: --http on it cannot bind.
    child_process p({"watch", server.endpoint, "--http", server.endpoint});
    EXPECT_EQ(p.wait_exit(10s), std::optional<int>(1));
    EXPECT_NE(p.read_stderr(5s).find("--http: cannot listen on"), std::string::npos);
}

TEST(StatusHttpProcess, WatchServesMetricsStatusJsonThePageAndRefusesTheRest) {
    auto server = start_serve(fast);
    ASSERT_FALSE(server.endpoint.empty());
    auto watch = start_watch_with_http(server.endpoint);
    ASSERT_FALSE(watch.http.empty());
    ASSERT_TRUE(next_event(*watch.process, "rtt", 10s)) << "no RTT sample";

    const auto metrics = get(watch.http, "/metrics");
    ASSERT_TRUE(metrics);
    EXPECT_EQ(metrics->status, 200);
    EXPECT_EQ(metrics->header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
    // The library registry's labels: role, protocol, then the endpoint's label.
    const std::string row =
        "{role=\"client\",protocol=\"native\",endpoint=\"" + server.endpoint + "\"}";
    for (const std::string family : {"heartbeat_pings_sent_total", "heartbeat_pongs_received_total",
                                     "heartbeat_rtt_seconds_count", "heartbeat_last_rtt_seconds"})
        EXPECT_NE(metrics->body.find(family + row), std::string::npos) << family << metrics->body;
    EXPECT_NE(metrics->body.find("# TYPE heartbeat_rtt_seconds histogram"), std::string::npos);

    const auto status = get(watch.http, "/status.json?pretty=no");
    ASSERT_TRUE(status);
    EXPECT_EQ(status->status, 200);
    EXPECT_EQ(status->header("Content-Type"), "application/json");
    EXPECT_NE(status->body.find("\"active\":\"" + server.endpoint + "\""), std::string::npos)
        << status->body;
    EXPECT_NE(status->body.find("{\"name\":\"" + server.endpoint + "\",\"state\":\"alive\""),
              std::string::npos)
        << status->body;

    const auto page = get(watch.http, "/");
    ASSERT_TRUE(page);
    EXPECT_EQ(page->status, 200);
    EXPECT_EQ(page->header("Content-Type"), "text/html; charset=utf-8");
    EXPECT_NE(page->body.find("<title>heartbeat status</title>"), std::string::npos);
    EXPECT_NE(page->body.find("/live"), std::string::npos);
    for (const std::string external : {"src=", "href=", "<link", "@import", "url("})
        EXPECT_EQ(page->body.find(external), std::string::npos)
            << external << ": the page loads nothing from elsewhere";

    const auto head = get(watch.http, "/metrics", "HEAD");
    ASSERT_TRUE(head);
    EXPECT_EQ(head->status, 200);
    EXPECT_TRUE(head->body.empty());

    EXPECT_EQ(get(watch.http, "/nope")->status, 404);
    EXPECT_EQ(get(watch.http, "/metrics/x")->status, 404);
    const auto post = get(watch.http, "/metrics", "POST");
    EXPECT_EQ(post->status, 405);
    EXPECT_EQ(post->header("Allow"), "GET, HEAD");
    EXPECT_EQ(get(watch.http, "/live")->status, 426) << "/live is a WebSocket";
    {
        tcp_client c(watch.http);
        const auto r =
            http_exchange(c, "GET / HTTP/1.1\r\nX-Big: " + std::string(10000, 'x') + "\r\n\r\n");
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 431);
    }
    {
        tcp_client c(watch.http);
        const auto r = http_exchange(c, "NOT HTTP AT ALL\r\n\r\n");
        ASSERT_TRUE(r);
        EXPECT_EQ(r->status, 400);
    }
    {
        // Keep-alive: two requests on one connection, as Prometheus scrapes.
        tcp_client c(watch.http);
        const std::string req = "GET /status.json HTTP/1.1\r\nHost: x\r\n\r\n";
        EXPECT_EQ(http_exchange(c, req)->status, 200);
        EXPECT_EQ(http_exchange(c, req)->status, 200);
    }
    // None of that hurt it.
    EXPECT_EQ(get(watch.http, "/metrics")->status, 200);
    watch.process->signal(SIGTERM);
    EXPECT_EQ(watch.process->wait_exit(10s), std::optional<int>(0));
}

TEST(StatusHttpProcess, ServeShowsOneRowPerPeer) {
    // Read in order: http_listening comes before listening.
    child_process serve_http({"serve", "--listen", "127.0.0.1:0", "--json", "--http", "127.0.0.1:0",
                              "--interval", "300ms"});
    const auto http = next_event(serve_http, "http_listening", 10s);
    const auto listening = next_event(serve_http, "listening", 10s);
    ASSERT_TRUE(http && listening);
    child_process watcher({"watch", listening->str("address"), "--json"});
    ASSERT_TRUE(next_event(serve_http, "peer_connected", 10s));
    ASSERT_TRUE(next_event(watcher, "rtt", 10s));
    const auto status = get(http->str("address"), "/status.json");
    ASSERT_TRUE(status);
    EXPECT_NE(status->body.find("\"role\":\"serve\""), std::string::npos) << status->body;
    EXPECT_NE(status->body.find("\"state\":\"alive\""), std::string::npos) << status->body;
    const auto metrics = get(http->str("address"), "/metrics");
    // Server series are per peer host (no port: bounded cardinality).
    EXPECT_NE(
        metrics->body.find(
            "heartbeat_sessions_open{role=\"server\",protocol=\"native\",peer=\"127.0.0.1\"} 1"),
        std::string::npos)
        << metrics->body;
}

TEST(StatusHttpProcess, ConnectionsBeyondTheLimitGet503) {
    auto server = start_serve(fast);
    auto watch = start_watch_with_http(server.endpoint);
    ASSERT_FALSE(watch.http.empty());
    constexpr int limit = 32; // status_http_limits::max_connections
    std::vector<std::unique_ptr<tcp_client>> idle;
    for (int i = 0; i < limit; ++i) {
        idle.push_back(std::make_unique<tcp_client>(watch.http));
        ASSERT_TRUE(idle.back()->connected());
    }
    tcp_client extra(watch.http);
    std::string buf;
    extra.read_until(buf, 10s, [](const std::string& b) { return b.find("\r\n\r\n") != b.npos; });
    EXPECT_EQ(buf.substr(0, 12), "HTTP/1.1 503") << buf;
    idle.clear();
    // Once they are gone, requests are served again (the server notices the closes at once).
    std::optional<http_response> ok;
    for (int i = 0; i < 50 && !(ok && ok->status == 200); ++i)
        ok = get(watch.http, "/status.json");
    ASSERT_TRUE(ok);
    EXPECT_EQ(ok->status, 200);
}

// /live is a heartbeat WebSocket session: a snapshot at once, an update every second, and a
// client that stops answering pings (this raw socket never answers one) is declared dead and
// dropped with close code 1011 after about interval + misses * timeout = 1 + 3 * 2 = 7 s.
TEST(StatusHttpProcess, LiveSendsASnapshotThenUpdatesAndDropsAClientThatNeverPongs) {
    auto server = start_serve(fast);
    auto watch = start_watch_with_http(server.endpoint);
    ASSERT_FALSE(watch.http.empty());
    tcp_client c(watch.http);
    ASSERT_TRUE(c.send_all("GET /live HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                           "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                           "Sec-WebSocket-Version: 13\r\n\r\n"));
    const auto started = steady::now();
    std::string buf;
    ASSERT_TRUE(
        c.read_until(buf, 10s, [](const std::string& b) { return b.find("\r\n\r\n") != b.npos; }));
    ASSERT_EQ(buf.substr(0, 12), "HTTP/1.1 101") << buf;
    buf.erase(0, buf.find("\r\n\r\n") + 4);

    // Server frames are unmasked: FIN+opcode, length (7 bits, or 126 + 16 bits), payload.
    struct frame {
        int opcode;
        std::string payload;
    };
    std::vector<frame> frames;
    const auto parse = [&](std::string& b) {
        while (b.size() >= 2) {
            std::size_t len = static_cast<unsigned char>(b[1]) & 0x7f, at = 2;
            if (len == 126) {
                if (b.size() < 4)
                    return;
                len = (static_cast<unsigned char>(b[2]) << 8) | static_cast<unsigned char>(b[3]);
                at = 4;
            } else if (len == 127) {
                if (b.size() < 10)
                    return;
                len = 0;
                for (int i = 2; i < 10; ++i)
                    len = (len << 8) | static_cast<unsigned char>(b[i]);
                at = 10;
            }
            if (b.size() < at + len)
                return;
            frames.push_back({b[0] & 0x0f, b.substr(at, len)});
            b.erase(0, at + len);
        }
    };
    c.read_until(buf, 20s, [&](std::string& b) {
        parse(b);
        return !frames.empty() && frames.back().opcode == 0x8;
    });
    const auto ended = steady::now() - started;

    int texts = 0, pings = 0;
    for (const auto& f : frames) {
        texts += f.opcode == 0x1;
        pings += f.opcode == 0x9;
    }
    ASSERT_FALSE(frames.empty());
    EXPECT_EQ(frames.front().opcode, 0x1);
    EXPECT_EQ(frames.front().payload.rfind("{\"type\":\"snapshot\",\"role\":\"watch\"", 0), 0u)
        << frames.front().payload;
    EXPECT_GE(texts, 4) << "an update every second";
    EXPECT_GE(pings, 3) << "the session pings the client";
    ASSERT_EQ(frames.back().opcode, 0x8) << "no close frame";
    ASSERT_GE(frames.back().payload.size(), 2u);
    const int code = (static_cast<unsigned char>(frames.back().payload[0]) << 8) |
                     static_cast<unsigned char>(frames.back().payload[1]);
    EXPECT_EQ(code, 1011) << "declared dead (close 1011)";
    const auto ended_ms = std::chrono::duration_cast<std::chrono::milliseconds>(ended).count();
    std::cout << "/live client that never pongs: close 1011 after " << ended_ms << " ms, " << texts
              << " JSON messages and " << pings << " pings\n";
    RecordProperty("live_drop_ms", static_cast<int>(ended_ms));
    EXPECT_GE(ended, 5s);
    EXPECT_LE(ended, 15s);
}

} // namespace
