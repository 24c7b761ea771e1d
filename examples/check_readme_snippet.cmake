# Fails unless README.md's "Embedding a session" code block is, line for line, the part of
# examples/readme_embedding.cpp between its two "// [embedding]" markers: the README shows
# only code that is compiled and run.
file(READ ${EXAMPLE} example)
file(READ ${README} readme)

set(marker "// [embedding]\n")
string(FIND "${example}" "${marker}" first)
string(FIND "${example}" "${marker}" last REVERSE)
if(first EQUAL -1 OR first EQUAL last)
  message(FATAL_ERROR "${EXAMPLE}: two '// [embedding]' marker lines expected")
endif()
string(LENGTH "${marker}" marker_length)
math(EXPR begin "${first} + ${marker_length}")
math(EXPR length "${last} - ${begin}")
string(SUBSTRING "${example}" ${begin} ${length} snippet)

set(heading "## Embedding a session\n\n```cpp\n")
string(FIND "${readme}" "${heading}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${README}: no '## Embedding a session' section opening with a cpp block")
endif()
string(LENGTH "${heading}" heading_length)
math(EXPR begin "${at} + ${heading_length}")
string(SUBSTRING "${readme}" ${begin} -1 rest)
string(FIND "${rest}" "```\n" end)
string(SUBSTRING "${rest}" 0 ${end} block)

if(NOT block STREQUAL snippet)
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/readme_block.txt "${block}")
  file(WRITE ${CMAKE_CURRENT_BINARY_DIR}/example_snippet.txt "${snippet}")
  message(FATAL_ERROR "README.md's embedding block differs from ${EXAMPLE}; compare "
                      "${CMAKE_CURRENT_BINARY_DIR}/readme_block.txt and example_snippet.txt")
endif()
message(STATUS "README embedding block matches ${EXAMPLE}")
