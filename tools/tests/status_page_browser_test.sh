#!/usr/bin/env bash
# Runs tests/interop/status_page_test.js (the status page in headless Chromium) with node, which
# must be on PATH: without it the test is skipped (77), or fails where interop peers are required
# (HEARTBEAT_REQUIRE_INTEROP=1 or CI=true), like every interop test.
#   status_page_browser_test.sh SCRIPT HEARTBEAT_BINARY SCREENSHOT_PNG DOCS_SCREENSHOT_PNG
set -euo pipefail
if ! command -v node >/dev/null; then
  echo "no node on PATH (scripts/install-deps.sh installs it)"
  [[ ${HEARTBEAT_REQUIRE_INTEROP:-} == 1 || ${CI:-} == true ]] && exit 1
  exit 77
fi
exec node "$@"
