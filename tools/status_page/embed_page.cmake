# Turns the status page (INPUT, one self-contained HTML file) into a C++ header (OUTPUT) holding
# it as a string_view, so the `heartbeat` binary serves it without any file at run time.
# Run by tools/CMakeLists.txt whenever the page changes.
file(READ "${INPUT}" page)
string(FIND "${page}" ")HBPAGE\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "${INPUT} contains the raw string delimiter )HBPAGE\"")
endif()
file(WRITE "${OUTPUT}.tmp"
  "#pragma once\n"
  "// Generated from tools/status_page/index.html by tools/status_page/embed_page.cmake.\n"
  "// Do not edit: edit the page.\n"
  "#include <string_view>\n\n"
  "namespace heartbeat::cli {\n\n"
  "inline constexpr std::string_view status_page_html = R\"HBPAGE(${page})HBPAGE\";\n\n"
  "} // namespace heartbeat::cli\n")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
