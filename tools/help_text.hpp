#pragma once
// The --help footers: the JSON event schema is part of the tool's contract, so it is documented
// where users look first.
namespace heartbeat::cli {

extern const char* const main_help_footer;
extern const char* const serve_help_footer;
extern const char* const watch_help_footer;
extern const char* const demo_help_footer;

} // namespace heartbeat::cli
