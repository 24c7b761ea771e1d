// INTERIM -- TO BE REPLACED BY THE LIBRARY RENDERER (heartbeat::metrics::render_prometheus).
// See interim_metrics.hpp.
#include "interim_metrics.hpp"

#include <cstdio>
#include <functional>

namespace heartbeat::cli {
namespace {

// A label value escaped as the exposition format asks: backslash, double quote and newline.
std::string escape_label(const std::string& v) {
    std::string out;
    for (const char c : v) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

std::string format_double(double v) {
    char buf[40];
    std::snprintf(buf, sizeof buf, "%.9g", v);
    return buf;
}

class exposition {
public:
    explicit exposition(const status_board& board)
        : board_(board), row_key_(board.role() == board_role::watch ? "endpoint" : "peer"),
          role_(board.role() == board_role::watch ? "watch" : "serve") {}

    void family(const char* name, const char* type, const char* help) {
        out_ += std::string("# HELP ") + name + ' ' + help + '\n';
        out_ += std::string("# TYPE ") + name + ' ' + type + '\n';
    }

    // One sample per row: `name{endpoint|peer="...",role="..."<extra>} value`.
    void per_row(const char* name, const std::function<std::string(const board_row&)>& value,
                 const std::string& extra_labels = "") {
        for (const auto& r : board_.rows())
            sample(name, r, extra_labels, value(r));
    }

    void sample(const std::string& name, const board_row& r, const std::string& extra_labels,
                const std::string& value) {
        out_ += name + '{' + row_key_ + "=\"" + escape_label(r.name) + "\",role=\"" + role_ + '"' +
                extra_labels + "} " + value + '\n';
    }

    void global(const char* name, std::uint64_t value) {
        out_ += std::string(name) + "{role=\"" + role_ + "\"} " + std::to_string(value) + '\n';
    }

    std::string take() { return std::move(out_); }

private:
    const status_board& board_;
    std::string row_key_;
    std::string role_;
    std::string out_;
};

std::string count(std::uint64_t n) {
    return std::to_string(n);
}

} // namespace

std::string render_interim_prometheus(const status_board& board) {
    exposition e(board);
    e.family("heartbeat_pings_sent_total", "counter",
             "Pings sent (interim: pongs received + pongs missed)");
    e.per_row("heartbeat_pings_sent_total",
              [](const board_row& r) { return count(r.pongs + r.pongs_missed); });
    e.family("heartbeat_pongs_received_total", "counter", "Pongs received in time");
    e.per_row("heartbeat_pongs_received_total", [](const board_row& r) { return count(r.pongs); });
    e.family("heartbeat_pongs_missed_total", "counter", "Pings whose pong did not come in time");
    e.per_row("heartbeat_pongs_missed_total",
              [](const board_row& r) { return count(r.pongs_missed); });

    e.family("heartbeat_verdicts_total", "counter", "Peers declared dead, by reason");
    for (const auto& r : board.rows())
        for (const auto& [reason, n] : r.verdicts)
            e.sample("heartbeat_verdicts_total", r, ",reason=\"" + escape_label(reason) + '"',
                     count(n));

    if (board.role() == board_role::watch) {
        e.family("heartbeat_reconnects_total", "counter",
                 "Reconnect rounds after every endpoint failed");
        e.global("heartbeat_reconnects_total", board.count("reconnecting"));
        e.family("heartbeat_failovers_total", "counter", "Moves to a less preferred endpoint");
        e.global("heartbeat_failovers_total", board.count("failover"));
        e.family("heartbeat_failbacks_total", "counter", "Moves back to a more preferred endpoint");
        e.global("heartbeat_failbacks_total", board.count("failback"));
    }

    e.family("heartbeat_sessions_open", "gauge", "Sessions currently established");
    std::uint64_t open = 0;
    for (const auto& r : board.rows())
        open += (r.state == row_state::alive || r.state == row_state::suspect) ? 1 : 0;
    e.global("heartbeat_sessions_open", open);

    e.family("heartbeat_endpoint_state", "gauge", "1 for the current state of each row, else 0");
    for (const auto& r : board.rows())
        for (const row_state s : all_row_states)
            e.sample("heartbeat_endpoint_state", r, std::string(",state=\"") + to_string(s) + '"',
                     r.state == s ? "1" : "0");

    e.family("heartbeat_rtt_seconds", "histogram", "Round-trip time of each ping");
    for (const auto& r : board.rows()) {
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < rtt_bucket_count; ++i) {
            cumulative += r.rtt_buckets[i];
            e.sample("heartbeat_rtt_seconds_bucket", r,
                     ",le=\"" + format_double(rtt_bucket_bounds[i]) + '"', count(cumulative));
        }
        e.sample("heartbeat_rtt_seconds_bucket", r, ",le=\"+Inf\"", count(r.rtt_count));
        e.sample("heartbeat_rtt_seconds_sum", r, "", format_double(r.rtt_sum_seconds));
        e.sample("heartbeat_rtt_seconds_count", r, "", count(r.rtt_count));
    }

    e.family("heartbeat_last_rtt_seconds", "gauge", "The latest round-trip time");
    e.per_row("heartbeat_last_rtt_seconds", [](const board_row& r) {
        return format_double(
            static_cast<double>(
                std::chrono::duration_cast<std::chrono::microseconds>(r.last_rtt).count()) /
            1e6);
    });
    return e.take();
}

} // namespace heartbeat::cli
