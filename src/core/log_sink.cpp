#include <heartbeat/core/log_sink.hpp>

namespace heartbeat {

const char* to_string(log_level l) noexcept {
    switch (l) {
    case log_level::debug:
        return "debug";
    case log_level::info:
        return "info";
    case log_level::warning:
        return "warning";
    case log_level::error:
        return "error";
    }
    return "unknown";
}

namespace {

void append_value(std::string& out, std::string_view v) {
    const bool quote = v.empty() || v.find_first_of(" \"=\\\n\t") != std::string_view::npos;
    if (!quote) {
        out += v;
        return;
    }
    out += '"';
    for (char c : v) {
        if (c == '"' || c == '\\')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    out += '"';
}

} // namespace

std::string format_logfmt(const log_record& r) {
    std::string out = "level=";
    out += to_string(r.level);
    out += " msg=";
    append_value(out, r.message);
    for (const auto& f : r.fields) {
        out += ' ';
        out += f.key;
        out += '=';
        append_value(out, f.value);
    }
    return out;
}

} // namespace heartbeat
