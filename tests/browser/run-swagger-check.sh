#!/usr/bin/env bash
# Browser check: start a throw-away server (SQLite by default) and drive its
# Swagger UI in headless Chromium (tests/browser/swagger-ui.mjs).
#
#   tests/browser/run-swagger-check.sh [sqlite|postgres]
#
# Screenshots go to ${CARGO_TARGET_DIR:-<repo>/target}/browser-artifacts/.
# CHROMIUM_PATH overrides /usr/bin/chromium.
set -euo pipefail

backend="${1:-sqlite}"
# shellcheck source=browser.sh
source "$(dirname "${BASH_SOURCE[0]}")/browser.sh"
rm -f "$ARTIFACTS_DIR"/*.png

kh_on_failure() { kh_server_log_tail 30; }
kh_server_start "$backend"

# In the background + wait, so that a TERM/INT reaches the traps at once.
kh_run_child env BASE_URL="$KH_BASE_URL" CHROMIUM_PATH="$chromium_path" \
    timeout 300 node "$script_dir/swagger-ui.mjs"
