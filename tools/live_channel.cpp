#include "live_channel.hpp"

#include <boost/asio/post.hpp>
#include <boost/beast/websocket/stream.hpp>

namespace heartbeat::cli {

live_channel::live_channel(monitor_config heartbeat, std::size_t max_clients)
    : max_clients_(max_clients) {
    config_.heartbeat = heartbeat;
    // The page never sends more than a few bytes; a bigger message is not ours.
    config_.max_message_size = 4096;
    config_.receive_buffer_limit = 64 * 1024;
    config_.close_timeout = seconds(1);
}

live_channel::~live_channel() {
    *alive_ = false;
}

void live_channel::add(boost::beast::websocket::stream<boost::asio::ip::tcp::socket> ws,
                       std::string snapshot) {
    clients_.push_back(client{std::make_unique<ws_session>(std::move(ws), config_)});
    const auto it = std::prev(clients_.end());
    it->session->async_run([this, it, alive = alive_](boost::system::error_code) {
        if (!*alive)
            return;
        // Not from inside the session's own completion: it must outlive its async_run.
        boost::asio::post(it->session->get_executor(), [this, it, alive] {
            if (*alive)
                clients_.erase(it);
        });
    });
    drain(it);
    send(it, std::move(snapshot));
}

// The page sends nothing we use; reading keeps the session's reader (which sees the pongs)
// from pausing on a full receive buffer if it ever did.
void live_channel::drain(client_list::iterator it) {
    it->session->async_receive_message(
        [this, it, alive = alive_](boost::system::error_code ec, websocket_message) {
            if (*alive && !ec)
                drain(it);
        });
}

void live_channel::send(client_list::iterator it, std::string message) {
    if (it->ending)
        return;
    if (it->unsent >= max_unsent) { // too slow: it gets a fresh snapshot when it reconnects
        it->ending = true;
        it->session->close();
        return;
    }
    ++it->unsent;
    it->session->async_send_text(std::move(message),
                                 [it, alive = alive_](boost::system::error_code) {
                                     if (*alive)
                                         --it->unsent;
                                 });
}

void live_channel::broadcast(const std::string& message) {
    for (auto it = clients_.begin(); it != clients_.end(); ++it)
        send(it, message);
}

void live_channel::close() {
    for (auto& c : clients_)
        if (!c.ending) {
            c.ending = true;
            c.session->close();
        }
}

} // namespace heartbeat::cli
