#!/usr/bin/env bash
# Browser check of the pages behind the emailed links (/verify-email,
# /reset-password, /invitations/accept): start a throw-away server (SQLite by
# default) whose links (KEYHOLDER_APP_URL) point at itself and whose emails go
# to a temp folder, then drive the pages in headless Chromium
# (tests/browser/pages.mjs).
#
#   tests/browser/run-pages-check.sh [sqlite|postgres]
#
# Screenshots go to ${CARGO_TARGET_DIR:-<repo>/target}/browser-artifacts/pages-<backend>-*.png.
# CHROMIUM_PATH overrides /usr/bin/chromium; KEYHOLDER_BIN uses a built binary;
# KH_PAGES_ONLY=1,5 runs only some scenarios (see pages.mjs).
set -euo pipefail

backend="${1:-sqlite}"
case "$backend" in
    sqlite | postgres) ;;
    *)
        echo "usage: $0 [sqlite|postgres]" >&2
        exit 2
        ;;
esac
# shellcheck source=browser.sh
source "$(dirname "${BASH_SOURCE[0]}")/browser.sh"
rm -f "$ARTIFACTS_DIR"/pages-"$backend"-*.png

kh_on_failure() {
    kh_server_log_tail 30
    if [[ -n "$KH_MAIL_DIR" && -d "$KH_MAIL_DIR" ]]; then
        echo "emails delivered:" >&2
        grep -h '^Subject:' "$KH_MAIL_DIR"/*.eml 2>/dev/null | sed 's/^/  /' >&2 || true
    fi
}
kh_server_start "$backend"

# The pages must be served; say so plainly when the binary predates them.
for page in verify-email reset-password invitations/accept; do
    code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 "$KH_BASE_URL/$page" || true)"
    if [[ "$code" != 200 ]]; then
        echo "GET /$page answered $code (expected 200): does $KH_BIN serve the pages?" >&2
        exit 1
    fi
done

# In the background + wait, so that a TERM/INT reaches the traps at once.
kh_run_child env BASE_URL="$KH_BASE_URL" MAIL_DIR="$KH_MAIL_DIR" BACKEND="$backend" \
    CHROMIUM_PATH="$chromium_path" timeout 300 node "$script_dir/pages.mjs"
