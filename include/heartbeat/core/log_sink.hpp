#pragma once
// Structured logging through a user-supplied sink. The library formats nothing and keeps no
// logger: it hands each record (level, message, key/value fields) to the sink, which does what
// it likes with it (format_logfmt() writes the common one-line form). Empty sink = silent, the
// default. Records are only made on rare events (state changes, endings, invalid configs),
// never per heartbeat, so a sink costs nothing on the heartbeat path.
#include <functional>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

namespace heartbeat {

enum class log_level { debug, info, warning, error };
const char* to_string(log_level l) noexcept;

struct log_field {
    std::string_view key;
    std::string_view value;
};

// Views into the caller's storage: valid only during the sink call.
struct log_record {
    log_level level = log_level::info;
    std::string_view message;
    std::span<const log_field> fields;
};

// Called on the executor of whatever logs (a session's strand, the client's strand).
using log_sink = std::function<void(const log_record&)>;

// Calls `sink` when it is set.
inline void log_to(const log_sink& sink, log_level level, std::string_view message,
                   std::initializer_list<log_field> fields) {
    if (sink)
        sink(log_record{level, message, std::span<const log_field>(fields.begin(), fields.size())});
}

// `level=info msg="session state" from=alive to=suspect`: values with spaces, quotes, '=' or
// nothing in them are quoted, with '"' and '\' escaped.
std::string format_logfmt(const log_record& r);

} // namespace heartbeat
