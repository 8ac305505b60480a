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
script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../support/server.sh
source "$script_dir/../support/server.sh"
cd "$KH_ROOT"

chromium_path="${CHROMIUM_PATH:-/usr/bin/chromium}"
if [[ ! -x "$chromium_path" ]]; then
    echo "no browser at $chromium_path" >&2
    exit 1
fi
command -v node >/dev/null 2>&1 || {
    echo "node is not installed" >&2
    exit 1
}
if [[ ! -d "$script_dir/node_modules/playwright-core" ]]; then
    echo "installing tests/browser dependencies (npm ci)" >&2
    (cd "$script_dir" && npm ci --no-audit --no-fund)
fi

export ARTIFACTS_DIR="${ARTIFACTS_DIR:-${CARGO_TARGET_DIR:-$KH_ROOT/target}/browser-artifacts}"
mkdir -p "$ARTIFACTS_DIR"
rm -f "$ARTIFACTS_DIR"/*.png

NODE_PID=""
cleanup() {
    local rc=$?
    if [[ -n "$NODE_PID" ]] && kill -0 "$NODE_PID" 2>/dev/null; then
        kill -TERM "$NODE_PID" 2>/dev/null || true
        wait "$NODE_PID" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 ]]; then
        kh_server_log_tail 30
    fi
    kh_server_stop
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

kh_server_start "$backend"

# In the background + wait, so that a TERM/INT reaches the traps at once.
BASE_URL="$KH_BASE_URL" CHROMIUM_PATH="$chromium_path" \
    timeout 300 node "$script_dir/swagger-ui.mjs" &
NODE_PID=$!
node_rc=0
wait "$NODE_PID" || node_rc=$?
NODE_PID=""
exit "$node_rc"
