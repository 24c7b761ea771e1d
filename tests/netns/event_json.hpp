#pragma once
// Reading the flat JSON lines that `heartbeat watch --json` and netns_sink print: one object per
// line, string and integer values only, no nesting. Enough to pick fields, not a JSON parser.
#include <cstdint>
#include <optional>
#include <string>

namespace heartbeat::netns {

// The raw value of "key" (quotes removed from a string), or nullopt when the line has none.
inline std::optional<std::string> json_field(const std::string& line, const std::string& key) {
    const std::string tag = "\"" + key + "\":";
    const auto at = line.find(tag);
    if (at == std::string::npos)
        return std::nullopt;
    auto begin = at + tag.size();
    if (begin < line.size() && line[begin] == '"') {
        const auto end = line.find('"', begin + 1);
        return line.substr(begin + 1, end == std::string::npos ? end : end - begin - 1);
    }
    const auto end = line.find_first_of(",}", begin);
    return line.substr(begin, end == std::string::npos ? end : end - begin);
}

inline std::optional<std::int64_t> json_int(const std::string& line, const std::string& key) {
    const auto text = json_field(line, key);
    if (!text || text->empty())
        return std::nullopt;
    try {
        return std::stoll(*text);
    } catch (const std::exception&) {
        return std::nullopt;
    }
}

inline bool is_event(const std::string& line, const std::string& name) {
    return line.find("\"event\":\"" + name + "\"") != std::string::npos;
}

} // namespace heartbeat::netns
