#include "json_events.hpp"

#include <algorithm>
#include <cstdio>

namespace heartbeat::cli {
namespace {

// Length of the well-formed UTF-8 sequence at the start of `s`, or 0 if it is not one
// (overlong forms, surrogates and code points above U+10FFFF are not well formed).
std::size_t utf8_sequence_length(std::string_view s) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char b0 = byte(0);
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
    if (b0 >= 0xC2 && b0 <= 0xDF) {
        len = 2;
    } else if (b0 >= 0xE0 && b0 <= 0xEF) {
        len = 3;
        if (b0 == 0xE0)
            lo = 0xA0;
        if (b0 == 0xED)
            hi = 0x9F;
    } else if (b0 >= 0xF0 && b0 <= 0xF4) {
        len = 4;
        if (b0 == 0xF0)
            lo = 0x90;
        if (b0 == 0xF4)
            hi = 0x8F;
    } else {
        return 0;
    }
    if (s.size() < len || byte(1) < lo || byte(1) > hi)
        return 0;
    for (std::size_t i = 2; i < len; ++i)
        if (byte(i) < 0x80 || byte(i) > 0xBF)
            return 0;
    return len;
}

void append_value(std::string& out, const event_line::value& v) {
    if (const auto* n = std::get_if<std::int64_t>(&v))
        out += std::to_string(*n);
    else
        append_json_string(out, std::get<std::string>(v));
}

} // namespace

event_line& event_line::subject(std::string key, std::string value) {
    subject_key_ = key;
    subject_ = value;
    fields_.emplace_back(std::move(key), std::move(value));
    return *this;
}

event_line& event_line::field(std::string key, std::int64_t v) {
    fields_.emplace_back(std::move(key), v);
    return *this;
}

event_line& event_line::field(std::string key, std::string v) {
    fields_.emplace_back(std::move(key), std::move(v));
    return *this;
}

event_line& event_line::summary(std::string text) {
    summary_ = std::move(text);
    return *this;
}

event_line& event_line::at(time_point t) {
    at_ = t;
    return *this;
}

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            if (const auto len = utf8_sequence_length(s.substr(i))) {
                out.append(s.substr(i, len));
                i += len;
            } else {
                out += "\\ufffd";
                ++i;
            }
            continue;
        }
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\b':
            out += "\\b";
            break;
        case '\f':
            out += "\\f";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\r':
            out += "\\r";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\u%04x", c);
                out += buf;
            } else {
                out += static_cast<char>(c);
            }
        }
        ++i;
    }
    out += '"';
}

std::string to_json(const event_line& e, std::int64_t t_ms) {
    std::string out = "{\"t_ms\":" + std::to_string(t_ms) + ",\"event\":";
    append_json_string(out, e.name());
    for (const auto& [key, value] : e.fields()) {
        out += ',';
        append_json_string(out, key);
        out += ':';
        append_value(out, value);
    }
    out += '}';
    return out;
}

std::string to_text(const event_line& e, std::int64_t t_ms) {
    char head[64];
    std::snprintf(head, sizeof head, "%8lld.%03llds  ", static_cast<long long>(t_ms / 1000),
                  static_cast<long long>(t_ms % 1000));
    std::string out = head;
    std::string subject = e.subject();
    if (subject.size() < 21)
        subject.resize(21, ' ');
    out += subject + "  ";
    std::string name = e.name();
    // A column of 14; a longer name (peer_connected, http_listening) still keeps one space.
    name.resize(std::max<std::size_t>(14, name.size() + 1), ' ');
    out += name;
    if (!e.summary().empty()) {
        out += e.summary();
    } else {
        for (const auto& [key, value] : e.fields()) {
            if (key == e.subject_key())
                continue;
            out += key + "=";
            if (const auto* n = std::get_if<std::int64_t>(&value))
                out += std::to_string(*n);
            else
                out += std::get<std::string>(value);
            out += ' ';
        }
    }
    while (!out.empty() && out.back() == ' ')
        out.pop_back();
    return out;
}

void event_writer::emit(const event_line& e) {
    const time_point when = std::max(e.at().value_or(clock::now()), start_);
    const auto t_ms = std::chrono::duration_cast<std::chrono::milliseconds>(when - start_).count();
    std::string line = format_ == output_format::json ? to_json(e, t_ms) : to_text(e, t_ms);
    line += '\n';
    std::lock_guard lock(mutex_);
    std::fwrite(line.data(), 1, line.size(), out_);
    std::fflush(out_);
}

} // namespace heartbeat::cli
