#include "status_service.hpp"

#include "status_page_html.hpp" // generated from status_page/index.html
#include "usage_error.hpp"

#include <boost/asio/ip/tcp.hpp>

#include <stdexcept>

namespace heartbeat::cli {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

host_port parse_http_address(const std::string& text) {
    try {
        return parse_host_port(text, true);
    } catch (const std::invalid_argument& e) {
        throw usage_error("--http", e.what());
    }
}

status_service::status_service(asio::io_context& ioc, board_role role, const host_port& at,
                               event_writer& out)
    : board_(role, clock::now()), timer_(ioc) {
    boost::system::error_code ec;
    tcp::resolver resolver(ioc);
    const auto results =
        resolver.resolve(at.host, std::to_string(at.port),
                         tcp::resolver::passive | tcp::resolver::numeric_service, ec);
    if (ec || results.empty())
        throw usage_error("--http", "cannot resolve " + quote_arg(at.host) + ": " + ec.message());
    status_http_routes routes;
    routes.metrics = [this] { return metrics_.prometheus(); };
    routes.status_json = [this] { return board_.status_json(clock::now()); };
    routes.live_snapshot = [this] {
        std::string s = board_.snapshot_json(clock::now());
        return "{\"type\":\"snapshot\"," + s.substr(1);
    };
    routes.page = std::string(status_page_html);
    try {
        server_ = std::make_unique<status_http_server>(ioc, results.begin()->endpoint(),
                                                       std::move(routes));
    } catch (const boost::system::system_error& e) {
        throw std::runtime_error("--http: cannot listen on " +
                                 quote_arg(format_host_port(at.host, at.port)) + ": " +
                                 e.code().message());
    }
    const auto bound = server_->local_endpoint();
    const std::string address = format_host_port(bound.address().to_string(), bound.port());
    out.emit(
        event_line("http_listening")
            .field("address", address)
            .field("url", "http://" + address + "/")
            .summary("status page http://" + address + "/ (also /status.json, /metrics, /live)"));
    server_->start();
    tick();
}

void status_service::changed() {
    if (!closed_ && board_.version() != pushed_version_)
        push();
}

void status_service::push() {
    pushed_version_ = board_.version();
    std::string update = board_.take_update_json(clock::now());
    server_->broadcast("{\"type\":\"update\"," + update.substr(1));
}

void status_service::tick() {
    timer_.expires_after(push_period);
    timer_.async_wait([this](boost::system::error_code ec) {
        if (ec || closed_)
            return;
        push();
        tick();
    });
}

void status_service::close() {
    if (closed_)
        return;
    closed_ = true;
    timer_.cancel();
    server_->close();
}

} // namespace heartbeat::cli
