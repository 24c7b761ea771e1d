#pragma once
// The tool's output: one line per event, either a JSON object (--json) or a human-readable line.
//
// JSON lines are the contract other tools script against: every object starts with `t_ms`
// (integer milliseconds from the tool's start to the event, on the monotonic clock; a client
// event is stamped when the client decided it, so the gap between `reconnecting` and the next
// attempt is never shorter than its `delay_ms`) and `event`, followed
// by the event's fields in a fixed order. Each line is flushed as soon as it is written, so a
// reader on a pipe sees events live.
#include <heartbeat/core/clock.hpp>

#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>
#include <vector>

namespace heartbeat::cli {

class event_line {
public:
    using value = std::variant<std::int64_t, std::string>;

    explicit event_line(std::string name) : name_(std::move(name)) {}

    // Who the event is about ("endpoint" or "peer"); also the second column of the text view.
    event_line& subject(std::string key, std::string value);
    event_line& field(std::string key, std::int64_t v);
    event_line& field(std::string key, std::string v);
    // The text view's description; when empty it shows the fields as key=value.
    event_line& summary(std::string text);
    // When the event happened, when it was decided earlier than it is written (a client event
    // carries its supervisor's time); otherwise the writer stamps the line when it writes it.
    event_line& at(time_point t);

    const std::string& name() const noexcept { return name_; }
    const std::string& subject_key() const noexcept { return subject_key_; }
    const std::string& subject() const noexcept { return subject_; }
    const std::vector<std::pair<std::string, value>>& fields() const noexcept { return fields_; }
    const std::string& summary() const noexcept { return summary_; }
    const std::optional<time_point>& at() const noexcept { return at_; }

private:
    std::string name_;
    std::string subject_key_;
    std::string subject_;
    std::vector<std::pair<std::string, value>> fields_;
    std::string summary_;
    std::optional<time_point> at_;
};

// Appends `s` as a JSON string literal. Invalid UTF-8 becomes U+FFFD, so the line stays valid
// JSON whatever bytes an argument or a peer address contained.
void append_json_string(std::string& out, std::string_view s);

std::string to_json(const event_line& e, std::int64_t t_ms);
std::string to_text(const event_line& e, std::int64_t t_ms);

enum class output_format { text, json };

// Thread-safe: a line is written and flushed under a lock, so lines never interleave.
class event_writer {
public:
    event_writer(std::FILE* out, output_format format, time_point start = clock::now())
        : out_(out), format_(format), start_(start) {}

    void emit(const event_line& e);
    output_format format() const noexcept { return format_; }

private:
    std::FILE* out_;
    output_format format_;
    time_point start_;
    std::mutex mutex_;
};

} // namespace heartbeat::cli
