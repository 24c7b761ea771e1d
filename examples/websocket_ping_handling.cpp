// You already have a Beast HTTP server; hand its upgraded WebSocket connections to heartbeat.
//
// The application below is its own small Beast server (not heartbeat::websocket_server): it
// serves `GET /` (a page whose inline JavaScript opens a WebSocket to /ws and shows what it
// receives), answers 404 elsewhere, and upgrades `/ws` itself with websocket::stream::
// async_accept(request). Only then does it hand the upgraded stream to heartbeat::ws_session,
// which pings the browser with WebSocket ping frames on its timer, measures the round trips
// (session_callbacks::on_rtt) and delivers messages; the application echoes them.
//
// Why: a browser answers pings by itself (no JavaScript involved), so server-side pings are how
// a server learns that a tab went away without a FIN (laptop lid closed, network gone) and what
// the round trip is. A Beast peer answers pings only while a read is pending on it.
//
// The same program plays two browser tabs with plain Beast clients (no heartbeat):
//   (a) keeps a read pending, so Beast answers the server's pings: the server records RTT
//       samples for it, and it exchanges a few messages, before and after (b) is dropped;
//   (b) completes the upgrade and never reads (a frozen tab): the server's pings go unanswered
//       and its session ends with heartbeat::error::peer_dead after its silence budget
//       (interval 100 ms + 3 x pong_timeout 100 ms); the application drops it, (a) goes on.
//
// Lifetimes: each connection object owns its session and is kept alive by the handlers of its
// pending operations (std::shared_ptr + enable_shared_from_this); the last of them is
// async_run's, which completes after every other operation of the session. At the end the
// application closes its sessions (close frame 1000) and its acceptor, and the io_context runs
// until nothing is left. Exits 0 when all of that happened, else 1 saying what did not.
#include <heartbeat/protocol/websocket/websocket_session.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>

#include <cstdio>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace websocket = beast::websocket;
namespace hb = heartbeat;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using namespace std::chrono_literals;

namespace {

double ms(hb::duration d) {
    return std::chrono::duration<double, std::milli>(d).count();
}

constexpr const char* page = R"html(<!doctype html>
<html><head><meta charset="utf-8"><title>heartbeat: WebSocket echo</title></head><body>
<h1>WebSocket echo</h1>
<p>The server pings this page with WebSocket ping frames; the browser answers them itself.</p>
<form id="f"><input name="text" value="hello"> <button>Send</button></form><ul id="log"></ul>
<script>
  const log = (line) => document.getElementById("log").appendChild(
    Object.assign(document.createElement("li"), {textContent: line}));
  const ws = new WebSocket(`ws://${location.host}/ws`);
  ws.onopen = () => log("connected");
  ws.onmessage = (e) => log("received: " + e.data);
  ws.onclose = (e) => log(`closed: ${e.code} ${e.reason}`);
  document.getElementById("f").onsubmit = (e) => (e.preventDefault(), ws.send(e.target.text.value));
</script></body></html>
)html";

// ---- The application's server --------------------------------------------------------------

class ws_connection;

// What the server saw of one WebSocket connection ("tab" #1, #2, ... in upgrade order).
struct tab_record {
    std::vector<hb::duration> rtts;
    bool ended = false;
    error_code reason;
    std::optional<hb::verdict> verdict;
};

// The application's state, shared by its connections (it outlives them all).
struct application {
    hb::websocket_session_config config;
    std::map<int, tab_record> tabs;
    std::map<int, std::weak_ptr<ws_connection>> live; // sessions to close at shutdown
    int next_tab = 1;
    std::function<void()> changed; // something in `tabs` changed
};

// One upgraded connection. It owns its session; the handlers of its pending operations own it.
class ws_connection : public std::enable_shared_from_this<ws_connection> {
public:
    ws_connection(application& app, int id, tcp::socket socket)
        : app_(app), id_(id), upgrading_(std::in_place, std::move(socket)) {}

    void upgrade(http::request<http::string_body> request) {
        upgrading_->async_accept(
            request, [self = shared_from_this()](error_code ec) { self->upgraded(ec); });
    }

    void close() {
        if (session_)
            session_->close(); // close frame 1000, then async_run completes
        else if (upgrading_)
            beast::get_lowest_layer(*upgrading_).cancel(); // the upgrade fails, nothing is left
    }

private:
    void upgraded(error_code ec) {
        if (ec) {
            std::printf("server: upgrade of tab #%d failed: %s\n", id_, ec.message().c_str());
            app_.live.erase(id_);
            return;
        }
        // The callbacks run on the session's executor while it runs; we outlive the session.
        hb::session_callbacks on;
        on.on_rtt = [this](hb::duration rtt, const hb::rtt_estimator& e) {
            std::printf("server: tab #%d ping answered in %.3f ms (smoothed %.3f ms)\n", id_,
                        ms(rtt), ms(e.srtt()));
            app_.tabs[id_].rtts.push_back(rtt);
            app_.changed();
        };
        on.on_verdict = [this](const hb::verdict& v) { app_.tabs[id_].verdict = v; };
        session_.emplace(std::move(*upgrading_), app_.config, std::move(on));
        upgrading_.reset(); // moved from
        std::printf("server: /ws upgraded, tab #%d handed to heartbeat\n", id_);
        session_->async_run([self = shared_from_this()](error_code why) { self->ended(why); });
        session_->async_send_text("you are tab #" + std::to_string(id_), [](error_code) {});
        receive();
    }

    void receive() { // echo every message, with its kind
        session_->async_receive(
            [self = shared_from_this()](error_code ec, hb::websocket_message m) {
                if (ec)
                    return; // the session ended: async_run says why
                self->session_->async_send(std::move(m.payload), m.kind, [](error_code) {});
                self->receive();
            });
    }

    // The session's last completion: drop the connection (this handler held the last owner).
    void ended(error_code why) {
        auto& tab = app_.tabs[id_];
        tab.ended = true;
        tab.reason = why;
        if (tab.verdict)
            std::printf("server: tab #%d is dead (%u pings unanswered, %.1f ms of silence); "
                        "dropped\n",
                        id_, tab.verdict->missed, ms(tab.verdict->silence));
        else
            std::printf("server: tab #%d ended: %s\n", id_, hb::error_name(why));
        app_.live.erase(id_);
        app_.changed();
    }

    application& app_;
    const int id_;
    std::optional<websocket::stream<tcp::socket>> upgrading_; // until the upgrade is done
    std::optional<hb::ws_session> session_;                   // after
};

// One HTTP connection: requests until the client closes it or goes quiet for 5 s, or until it
// is upgraded, when its socket moves on to a ws_connection.
class http_connection : public std::enable_shared_from_this<http_connection> {
public:
    http_connection(application& app, tcp::socket socket) : app_(app), stream_(std::move(socket)) {}

    void read() {
        request_ = {};
        stream_.expires_after(5s);
        http::async_read(stream_, buffer_, request_,
                         [self = shared_from_this()](error_code ec, std::size_t) {
                             if (!ec) // else closed by the client, timed out...: we go away
                                 self->serve();
                         });
    }

private:
    void serve() {
        if (websocket::is_upgrade(request_) && request_.target() == "/ws") {
            // (A real server checks the Origin header here: any page may open a WebSocket.)
            stream_.expires_never();
            const int id = app_.next_tab++;
            auto ws = std::make_shared<ws_connection>(app_, id, stream_.release_socket());
            app_.live[id] = ws;
            ws->upgrade(std::move(request_));
            return;
        }
        const bool index = request_.method() == http::verb::get && request_.target() == "/";
        response_ = {index ? http::status::ok : http::status::not_found, request_.version()};
        response_.set(http::field::content_type, index ? "text/html; charset=utf-8" : "text/plain");
        response_.keep_alive(request_.keep_alive());
        response_.body() = index ? page : "not found\n";
        response_.prepare_payload();
        std::printf("server: %s %s -> %u\n", std::string(request_.method_string()).c_str(),
                    std::string(request_.target()).c_str(), response_.result_int());
        http::async_write(stream_, response_,
                          [self = shared_from_this()](error_code ec, std::size_t) {
                              if (!ec && self->response_.keep_alive())
                                  self->read();
                          });
    }

    application& app_;
    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    http::request<http::string_body> request_;
    http::response<http::string_body> response_;
};

class http_server : public std::enable_shared_from_this<http_server> {
public:
    http_server(asio::io_context& ioc, application& app)
        : app_(app), acceptor_(ioc, {asio::ip::make_address("127.0.0.1"), 0}) {}
    unsigned short port() const { return acceptor_.local_endpoint().port(); }

    void accept() {
        acceptor_.async_accept([self = shared_from_this()](error_code ec, tcp::socket socket) {
            if (ec)
                return; // closed
            std::make_shared<http_connection>(self->app_, std::move(socket))->read();
            self->accept();
        });
    }

    void close() { // stop accepting; say goodbye on every WebSocket
        acceptor_.close();
        for (auto& [id, weak] : app_.live) // close() completes nothing inline: no erase here
            if (auto ws = weak.lock())
                ws->close();
    }

private:
    application& app_;
    tcp::acceptor acceptor_;
};

// ---- The browsers --------------------------------------------------------------------------

// Wakes the scenario when something it may wait for happened; its waits are bounded.
class waker {
public:
    explicit waker(asio::any_io_executor ex) : timer_(ex) {}
    void notify() { timer_.cancel(); }
    template <class Done>
    asio::awaitable<bool> until(Done done, hb::duration limit) {
        const auto deadline = hb::clock::now() + limit;
        while (!done()) {
            if (hb::clock::now() >= deadline)
                co_return false;
            timer_.expires_at(deadline);
            co_await timer_.async_wait(asio::as_tuple(asio::use_awaitable));
        }
        co_return true;
    }

private:
    asio::steady_timer timer_;
};

// A tab: a plain Beast WebSocket client. Beast answers pings (and close frames) only while a
// read is pending on it.
struct tab {
    explicit tab(asio::any_io_executor ex) : ws(ex) {}
    websocket::stream<tcp::socket> ws;
    std::vector<std::string> received;
    bool reading = false;
    error_code read_ended; // why its reads stopped
};

asio::awaitable<std::shared_ptr<tab>> open_tab(unsigned short port) {
    auto t = std::make_shared<tab>(co_await asio::this_coro::executor);
    co_await t->ws.next_layer().async_connect({asio::ip::make_address("127.0.0.1"), port},
                                              asio::use_awaitable);
    co_await t->ws.async_handshake("127.0.0.1:" + std::to_string(port), "/ws", asio::use_awaitable);
    t->ws.text(true);
    co_return t;
}

asio::awaitable<void> keep_reading(std::shared_ptr<tab> t, std::shared_ptr<waker> w) {
    beast::flat_buffer buffer;
    t->reading = true;
    for (int i = 0; i < 1000; ++i) {
        auto [ec, n] = co_await t->ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
        if (ec) {
            t->read_ended = ec;
            break;
        }
        t->received.push_back(beast::buffers_to_string(buffer.data()));
        buffer.consume(n);
        w->notify();
    }
    t->reading = false;
    w->notify();
}

asio::awaitable<http::response<http::string_body>> http_get(unsigned short port,
                                                            std::string target) {
    beast::tcp_stream stream(co_await asio::this_coro::executor);
    stream.expires_after(5s);
    co_await stream.async_connect({asio::ip::make_address("127.0.0.1"), port}, asio::use_awaitable);
    http::request<http::empty_body> request{http::verb::get, target, 11};
    request.set(http::field::host, "127.0.0.1:" + std::to_string(port));
    co_await http::async_write(stream, request, asio::use_awaitable);
    beast::flat_buffer buffer;
    http::response<http::string_body> response;
    co_await http::async_read(stream, buffer, response, asio::use_awaitable);
    error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    co_return response;
}

struct outcome {
    bool page_served = false, echoes_before = false, echoes_after = false, shutdown_clean = false;
};

// Tab `t` sends three messages tagged `tag` and waits (bounded) for their echoes.
asio::awaitable<bool> exchange(tab& t, waker& w, const std::string& tag) {
    for (int i = 1; i <= 3; ++i) {
        const std::string text = tag + " " + std::to_string(i);
        const std::size_t before = t.received.size();
        co_await t.ws.async_write(asio::buffer(text), asio::use_awaitable);
        if (!co_await w.until([&] { return t.received.size() > before; }, 2s) ||
            t.received.back() != text) {
            std::printf("tab #1: no echo of \"%s\"\n", text.c_str());
            co_return false;
        }
        std::printf("tab #1: echo \"%s\"\n", text.c_str());
    }
    co_return true;
}

// The tabs' visit; stops at the first step that fails (what is left of `out` stays false).
asio::awaitable<void> visit(application& app, unsigned short port, std::shared_ptr<waker> w,
                            outcome& out, std::shared_ptr<tab>& a, std::shared_ptr<tab>& b) {
    const auto index = co_await http_get(port, "/");
    const auto missing = co_await http_get(port, "/favicon.ico");
    out.page_served = index.result() == http::status::ok &&
                      index.body().find("WebSocket") != std::string::npos &&
                      missing.result() == http::status::not_found;
    std::printf("browser: GET / -> %u (%zu bytes of HTML), GET /favicon.ico -> %u\n",
                index.result_int(), index.body().size(), missing.result_int());

    a = co_await open_tab(port);
    asio::co_spawn(a->ws.get_executor(), keep_reading(a, w), asio::detached);
    if (co_await w->until([&] { return !a->received.empty(); }, 2s))
        std::printf("tab #1: \"%s\"\n", a->received.front().c_str());
    out.echoes_before = co_await exchange(*a, *w, "before");
    // Quiet now: after `interval` without traffic the server pings, Beast answers.
    co_await w->until([&] { return app.tabs[1].rtts.size() >= 3; }, 2s);

    b = co_await open_tab(port); // and never reads: a frozen tab
    const auto frozen = hb::clock::now();
    const auto samples = app.tabs[1].rtts.size();
    const hb::duration budget = hb::silence_budget(app.config.heartbeat);
    if (!co_await w->until([&] { return app.tabs[2].ended; }, budget + 3s)) {
        std::printf("browser: tab #2 still connected %.0f ms after it froze\n",
                    ms(hb::clock::now() - frozen));
        co_return;
    }
    std::printf("browser: tab #2 was dropped %.1f ms after it froze (budget %.0f ms); tab #1 "
                "answered %zu pings meanwhile\n",
                ms(hb::clock::now() - frozen), ms(budget), app.tabs[1].rtts.size() - samples);
    out.echoes_after = !app.tabs[1].ended && co_await exchange(*a, *w, "after");
}

asio::awaitable<void> browsers(application& app, std::shared_ptr<http_server> server,
                               outcome& out) {
    auto w = std::make_shared<waker>(co_await asio::this_coro::executor);
    app.changed = [w] { w->notify(); };
    std::shared_ptr<tab> a, b;
    try {
        co_await visit(app, server->port(), w, out, a, b);
    } catch (const std::exception& e) {
        std::printf("browser: %s\n", e.what());
    }

    // Shutdown: the server closes its sessions (tab #1's pending read answers the close frame)
    // and its acceptor; tab #2's socket is closed here (nothing of it is pending).
    server->close();
    if (b) {
        error_code ignored;
        b->ws.next_layer().close(ignored);
    }
    out.shutdown_clean =
        co_await w->until([&] { return app.live.empty() && (!a || !a->reading); }, 5s);
    if (a)
        std::printf("tab #1: reads ended: %s (close code %d)\n", a->read_ended.message().c_str(),
                    static_cast<int>(a->ws.reason().code));
    app.changed = [] {};
}

} // namespace

int main() {
    application app;                           // outlives the io_context and everything on it
    app.config.heartbeat.interval = 100ms;     // ping after 100 ms without a frame from the tab
    app.config.heartbeat.pong_timeout = 100ms; // each ping's deadline, from when it was written
    app.config.heartbeat.max_missed = 3;       // dead after 3 unanswered pings: budget 400 ms
    app.changed = [] {};

    asio::io_context ioc;
    auto server = std::make_shared<http_server>(ioc, app);
    server->accept();
    std::printf("server: listening on http://127.0.0.1:%u/\n", server->port());

    outcome out;
    bool done = false;
    asio::co_spawn(ioc, browsers(app, server, out), [&](std::exception_ptr) { done = true; });
    server.reset();      // its pending accept owns it now
    ioc.run_for(20s);    // returns early once nothing is left to do
    app.changed = [] {}; // whatever it held goes before the io_context

    const auto& a = app.tabs[1];
    const auto& b = app.tabs[2];
    const hb::duration budget = hb::silence_budget(app.config.heartbeat);
    bool ok = true;
    auto check = [&](bool good, const char* what) {
        std::printf("%s %s\n", good ? "ok:    " : "FAILED:", what);
        ok = ok && good;
    };
    check(out.page_served, "GET / served the page (200, \"WebSocket\"), other paths 404");
    check(a.rtts.size() >= 3, "tab #1's pings answered, RTT measured");
    check(out.echoes_before, "tab #1's messages echoed before tab #2 froze");
    check(b.ended && b.reason == hb::error::peer_dead && b.verdict && b.verdict->silence >= budget,
          "tab #2 (never reads) dropped with peer_dead after its silence budget");
    check(out.echoes_after, "tab #1's messages echoed after tab #2 was dropped");
    check(done && out.shutdown_clean && a.reason == hb::error::session_closed && ioc.stopped(),
          "clean shutdown: sessions closed, acceptor closed, nothing left pending");
    if (!ok)
        std::printf("tab #1 ended: %s; tab #2 ended: %s\n",
                    a.ended ? hb::error_name(a.reason) : "no",
                    b.ended ? hb::error_name(b.reason) : "no");
    return ok ? 0 : 1;
}
