#include "status_board.hpp"

#include "json_events.hpp" // append_json_string

#include <algorithm>

namespace heartbeat::cli {
namespace {

std::int64_t to_us(duration d) {
    return std::chrono::duration_cast<std::chrono::microseconds>(d).count();
}

void append_field(std::string& out, const char* key, std::int64_t v) {
    out += '"';
    out += key;
    out += "\":";
    out += std::to_string(v);
    out += ',';
}

void append_field(std::string& out, const char* key, std::string_view v) {
    out += '"';
    out += key;
    out += "\":";
    append_json_string(out, v);
    out += ',';
}

void close_object(std::string& out, char closer) {
    if (out.back() == ',')
        out.back() = closer;
    else
        out += closer;
}

} // namespace

const char* to_string(row_state s) noexcept {
    switch (s) {
    case row_state::idle:
        return "idle";
    case row_state::connecting:
        return "connecting";
    case row_state::alive:
        return "alive";
    case row_state::suspect:
        return "suspect";
    case row_state::dead:
        return "dead";
    case row_state::closed:
        return "closed";
    }
    return "unknown";
}

void status_board::add_row(const std::string& name) {
    if (std::none_of(rows_.begin(), rows_.end(),
                     [&](const board_row& r) { return r.name == name; })) {
        rows_.emplace_back().name = name;
        ++version_;
    }
}

board_row& status_board::row(const std::string& name, time_point now) {
    for (auto& r : rows_)
        if (r.name == name)
            return r;
    evict_closed_rows();
    board_row& r = rows_.emplace_back();
    r.name = name;
    r.state_since_ms = ms_since_start(now);
    ++version_;
    return r;
}

// A serve board would otherwise grow with every peer that ever came: beyond max_rows, the rows
// closed longest ago go (live peers are never dropped, so a busy server may exceed it).
void status_board::evict_closed_rows() {
    while (rows_.size() >= max_rows) {
        auto oldest = rows_.end();
        for (auto it = rows_.begin(); it != rows_.end(); ++it)
            if ((it->state == row_state::closed || it->state == row_state::dead) &&
                (oldest == rows_.end() || it->state_since_ms < oldest->state_since_ms))
                oldest = it;
        if (oldest == rows_.end())
            return;
        last_sent_t_.erase(oldest->name);
        rows_.erase(oldest);
    }
}

std::int64_t status_board::ms_since_start(time_point t) const {
    return std::chrono::duration_cast<std::chrono::milliseconds>(t - start_).count();
}

void status_board::set_state(board_row& r, row_state s, time_point now) {
    if (r.state == s)
        return;
    r.state = s;
    r.state_since_ms = ms_since_start(now);
    ++version_;
}

void status_board::on_connecting(const std::string& name, time_point now) {
    set_state(row(name, now), row_state::connecting, now);
}

void status_board::on_established(const std::string& name, time_point now) {
    board_row& r = row(name, now);
    ++r.sessions;
    r.missed = 0;
    set_state(r, row_state::alive, now);
    if (role_ == board_role::watch && active_ != name) {
        active_ = name;
        ++version_;
    }
}

void status_board::on_state(const std::string& name, row_state state, unsigned missed,
                            time_point now) {
    board_row& r = row(name, now);
    if (missed > r.missed)
        r.pongs_missed += missed - r.missed;
    r.missed = missed;
    set_state(r, state, now);
}

void status_board::on_rtt(const std::string& name, duration rtt, duration srtt, time_point now) {
    board_row& r = row(name, now);
    r.last_rtt = rtt;
    r.srtt = srtt;
    ++r.pongs;
    r.samples.push_back({ms_since_start(now), to_us(rtt)});
    if (r.samples.size() > rtt_ring_capacity)
        r.samples.pop_front();
    const double seconds = static_cast<double>(to_us(rtt)) / 1e6;
    ++r.rtt_count;
    r.rtt_sum_seconds += seconds;
    for (std::size_t i = 0; i < rtt_bucket_count; ++i)
        if (seconds <= rtt_bucket_bounds[i]) {
            ++r.rtt_buckets[i];
            break;
        }
}

void status_board::on_verdict(const std::string& name, const std::string& reason, unsigned missed,
                              time_point now) {
    board_row& r = row(name, now);
    if (missed > r.missed)
        r.pongs_missed += missed - r.missed;
    r.missed = missed;
    ++r.verdicts[reason];
    set_state(r, row_state::dead, now);
}

void status_board::on_closed(const std::string& name, time_point now) {
    board_row& r = row(name, now);
    if (r.state != row_state::dead)
        set_state(r, row_state::closed, now);
    if (active_ == name) {
        active_.clear();
        ++version_;
    }
}

void status_board::on_history(const std::string& kind, const std::string& from,
                              const std::string& to, time_point now) {
    history_.push_back({ms_since_start(now), kind, from, to});
    if (history_.size() > history_capacity)
        history_.pop_front();
    ++history_counts_[kind];
    ++version_;
}

std::uint64_t status_board::count(const std::string& history_kind) const {
    const auto it = history_counts_.find(history_kind);
    return it == history_counts_.end() ? 0 : it->second;
}

std::string status_board::status_json(time_point now) const {
    return render(now, false, nullptr);
}

std::string status_board::snapshot_json(time_point now) const {
    return render(now, true, nullptr);
}

std::string status_board::take_update_json(time_point now) {
    std::string out = render(now, true, &last_sent_t_);
    for (const auto& r : rows_)
        if (!r.samples.empty())
            last_sent_t_[r.name] = r.samples.back().t_ms;
    return out;
}

std::string status_board::render(time_point now, bool with_samples,
                                 const std::map<std::string, std::int64_t>* since) const {
    std::string out = "{";
    append_field(out, "role", role_ == board_role::watch ? "watch" : "serve");
    append_field(out, "t_ms", ms_since_start(now));
    append_field(out, "active", active_);
    out += "\"rows\":[";
    for (const auto& r : rows_) {
        out += '{';
        append_field(out, "name", r.name);
        append_field(out, "state", to_string(r.state));
        append_field(out, "since_ms", r.state_since_ms);
        append_field(out, "last_rtt_us", to_us(r.last_rtt));
        append_field(out, "srtt_us", to_us(r.srtt));
        append_field(out, "missed", r.missed);
        append_field(out, "sessions", static_cast<std::int64_t>(r.sessions));
        std::uint64_t verdicts = 0;
        for (const auto& [reason, n] : r.verdicts)
            verdicts += n;
        append_field(out, "verdicts", static_cast<std::int64_t>(verdicts));
        if (with_samples) {
            std::int64_t after = -1;
            if (since)
                if (const auto it = since->find(r.name); it != since->end())
                    after = it->second;
            out += "\"samples\":[";
            for (const auto& s : r.samples)
                if (s.t_ms > after)
                    out += '[' + std::to_string(s.t_ms) + ',' + std::to_string(s.rtt_us) + "],";
            close_object(out, ']');
            out += ',';
        }
        close_object(out, '}');
        out += ',';
    }
    close_object(out, ']');
    out += ",\"history\":[";
    for (const auto& h : history_) {
        out += '{';
        append_field(out, "t_ms", h.t_ms);
        append_field(out, "kind", h.kind);
        append_field(out, "from", h.from);
        append_field(out, "to", h.to);
        close_object(out, '}');
        out += ',';
    }
    close_object(out, ']');
    out += ",\"counts\":{";
    for (const char* kind : {"failover", "failback", "reconnecting"}) {
        append_field(out, kind, static_cast<std::int64_t>(count(kind)));
    }
    close_object(out, '}');
    out += '}';
    return out;
}

} // namespace heartbeat::cli
