#include "number_text.hpp"

#include <heartbeat/metrics/render.hpp>

#include <string_view>

namespace heartbeat::metrics {
namespace {

using detail::append_number;

void append_escaped(std::string& out, std::string_view v) {
    for (char c : v) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '"')
            out += "\\\"";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
}

struct extra_label {
    std::string_view name;
    std::string_view value;
};

// name{role="..",protocol="..",endpoint="..",peer="..",extra="..."}
void append_series_name(std::string& out, std::string_view name, const series_labels& l,
                        extra_label extra = {}) {
    out += name;
    bool first = true;
    const auto label = [&](std::string_view key, std::string_view value) {
        if (value.empty())
            return;
        out += first ? '{' : ',';
        first = false;
        out += key;
        out += "=\"";
        append_escaped(out, value);
        out += '"';
    };
    label("role", l.role);
    label("protocol", l.protocol);
    label("endpoint", l.endpoint);
    label("peer", l.peer);
    if (!extra.name.empty())
        label(extra.name, extra.value);
    if (!first)
        out += '}';
    out += ' ';
}

void append_header(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
    out += "# HELP ";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE ";
    out += name;
    out += ' ';
    out += type;
    out += '\n';
}

template <class Value>
void append_family(std::string& out, const metrics_snapshot& s, std::string_view name,
                   std::string_view type, std::string_view help, Value value) {
    append_header(out, name, type, help);
    for (const auto& series : s.series) {
        append_series_name(out, name, series.labels);
        append_number(out, value(series));
        out += '\n';
    }
}

void append_histogram(std::string& out, const metrics_snapshot& s, std::string_view name,
                      std::string_view help,
                      const histogram_snapshot& (*histogram)(const series_snapshot&)) {
    append_header(out, name, "histogram", help);
    const std::string bucket = std::string(name) + "_bucket";
    const std::string sum = std::string(name) + "_sum";
    const std::string count = std::string(name) + "_count";
    for (const auto& series : s.series) {
        const auto& h = histogram(series);
        std::uint64_t cumulative = 0;
        std::string le;
        for (std::size_t i = 0; i <= h.upper_bounds.size(); ++i) {
            if (i < h.bucket_counts.size())
                cumulative += h.bucket_counts[i];
            le.clear();
            if (i < h.upper_bounds.size())
                append_number(le, h.upper_bounds[i]);
            else
                le = "+Inf";
            append_series_name(out, bucket, series.labels, {"le", le});
            append_number(out, cumulative);
            out += '\n';
        }
        append_series_name(out, sum, series.labels);
        append_number(out, h.sum_seconds);
        out += '\n';
        append_series_name(out, count, series.labels);
        append_number(out, cumulative);
        out += '\n';
    }
}

} // namespace

std::string render_prometheus(const metrics_snapshot& s) {
    std::string out;
    out.reserve(1024 + s.series.size() * 4096);
    append_family(out, s, "heartbeat_pings_sent_total", "counter", "Heartbeat pings sent.",
                  [](const series_snapshot& x) { return x.pings_sent; });
    append_family(out, s, "heartbeat_pongs_received_total", "counter",
                  "Pongs received in answer to our pings.",
                  [](const series_snapshot& x) { return x.pongs_received; });
    append_family(out, s, "heartbeat_pongs_missed_total", "counter",
                  "Pings whose pong did not come within the pong timeout.",
                  [](const series_snapshot& x) { return x.pongs_missed; });

    append_header(out, "heartbeat_verdicts_total", "counter",
                  "Sessions ended by the heartbeat, by reason.");
    for (const auto& series : s.series)
        for (const auto& v : series.verdicts) {
            append_series_name(out, "heartbeat_verdicts_total", series.labels,
                               {"reason", v.reason});
            append_number(out, v.count);
            out += '\n';
        }

    append_family(out, s, "heartbeat_reconnects_total", "counter",
                  "Connection attempts after the first one.",
                  [](const series_snapshot& x) { return x.reconnects; });
    append_family(out, s, "heartbeat_failovers_total", "counter",
                  "Switches away from this endpoint to another one after it failed.",
                  [](const series_snapshot& x) { return x.failovers; });
    append_family(out, s, "heartbeat_failbacks_total", "counter",
                  "Switches back to this more preferred endpoint once it was healthy again.",
                  [](const series_snapshot& x) { return x.failbacks; });
    append_family(out, s, "heartbeat_suspicious_verdicts_total", "counter",
                  "Dead verdicts whose peer answered again on the same series within the window.",
                  [](const series_snapshot& x) { return x.suspicious_verdicts; });
    append_family(out, s, "heartbeat_sessions_open", "gauge",
                  "Sessions past their handshake and not yet ended.",
                  [](const series_snapshot& x) { return x.sessions_open; });

    append_header(out, "heartbeat_endpoint_state", "gauge",
                  "1 for the current state of the endpoint, 0 for the others.");
    for (const auto& series : s.series) {
        if (series.state == endpoint_state::unknown)
            continue;
        for (std::size_t i = 0; i < endpoint_state_names.size(); ++i) {
            append_series_name(out, "heartbeat_endpoint_state", series.labels,
                               {"state", endpoint_state_names[i]});
            out += static_cast<std::size_t>(series.state) == i + 1 ? '1' : '0';
            out += '\n';
        }
    }

    append_header(out, "heartbeat_last_rtt_seconds", "gauge",
                  "The last round trip a pong measured.");
    for (const auto& series : s.series) {
        if (!series.last_rtt_seconds)
            continue;
        append_series_name(out, "heartbeat_last_rtt_seconds", series.labels);
        append_number(out, *series.last_rtt_seconds);
        out += '\n';
    }

    append_histogram(
        out, s, "heartbeat_rtt_seconds", "Round trips measured by pongs.",
        [](const series_snapshot& x) -> const histogram_snapshot& { return x.rtt_seconds; });
    append_histogram(
        out, s, "heartbeat_detection_seconds",
        "Time from the last proof of life to the dead verdict.",
        [](const series_snapshot& x) -> const histogram_snapshot& { return x.detection_seconds; });
    return out;
}

} // namespace heartbeat::metrics
