#include "number_text.hpp"

#include <heartbeat/metrics/render.hpp>

#include <cstdio>
#include <string_view>

namespace heartbeat::metrics {
namespace {

using detail::append_number;

void append_string(std::string& out, std::string_view v) {
    out += '"';
    for (unsigned char c : v) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c == '\n') {
            out += "\\n";
        } else if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x", c);
            out += buf;
        } else {
            out += static_cast<char>(c);
        }
    }
    out += '"';
}

void append_key(std::string& out, std::string_view key) {
    out += ',';
    append_string(out, key);
    out += ':';
}

template <class Number>
void append_field(std::string& out, std::string_view key, Number v) {
    append_key(out, key);
    append_number(out, v);
}

void append_histogram(std::string& out, std::string_view key, const histogram_snapshot& h) {
    append_key(out, key);
    out += "{\"buckets\":[";
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i <= h.upper_bounds.size(); ++i) {
        if (i < h.bucket_counts.size())
            cumulative += h.bucket_counts[i];
        if (i)
            out += ',';
        out += '[';
        if (i < h.upper_bounds.size())
            append_number(out, h.upper_bounds[i]);
        else
            out += "\"+Inf\"";
        out += ',';
        append_number(out, cumulative);
        out += ']';
    }
    out += "],\"sum\":";
    append_number(out, h.sum_seconds);
    out += ",\"count\":";
    append_number(out, cumulative);
    out += '}';
}

void append_series(std::string& out, const series_snapshot& s) {
    out += "{\"labels\":{\"role\":";
    append_string(out, s.labels.role);
    append_key(out, "protocol");
    append_string(out, s.labels.protocol);
    append_key(out, "endpoint");
    append_string(out, s.labels.endpoint);
    append_key(out, "peer");
    append_string(out, s.labels.peer);
    out += '}';
    append_field(out, "pings_sent", s.pings_sent);
    append_field(out, "pongs_received", s.pongs_received);
    append_field(out, "pongs_missed", s.pongs_missed);
    append_key(out, "verdicts");
    out += '{';
    for (std::size_t i = 0; i < s.verdicts.size(); ++i) {
        if (i)
            out += ',';
        append_string(out, s.verdicts[i].reason);
        out += ':';
        append_number(out, s.verdicts[i].count);
    }
    out += '}';
    append_field(out, "reconnects", s.reconnects);
    append_field(out, "failovers", s.failovers);
    append_field(out, "failbacks", s.failbacks);
    append_field(out, "suspicious_verdicts", s.suspicious_verdicts);
    append_field(out, "sessions_open", s.sessions_open);
    append_key(out, "state");
    if (s.state == endpoint_state::unknown)
        out += "null";
    else
        append_string(out, to_string(s.state));
    append_key(out, "last_rtt_seconds");
    if (s.last_rtt_seconds)
        append_number(out, *s.last_rtt_seconds);
    else
        out += "null";
    append_histogram(out, "rtt_seconds", s.rtt_seconds);
    append_histogram(out, "detection_seconds", s.detection_seconds);
    out += '}';
}

} // namespace

std::string render_json(const metrics_snapshot& snapshot) {
    std::string out = "{\"series\":[";
    for (std::size_t i = 0; i < snapshot.series.size(); ++i) {
        if (i)
            out += ',';
        append_series(out, snapshot.series[i]);
    }
    out += "]}";
    return out;
}

} // namespace heartbeat::metrics
