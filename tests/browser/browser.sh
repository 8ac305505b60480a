# Shared by the browser checks: the server helpers, the browser and node,
# the npm dependencies, and the screenshot folder. Sourced with the backend
# in $backend; sets script_dir, chromium_path and ARTIFACTS_DIR.
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
kh_traps
