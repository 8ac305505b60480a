#!/usr/bin/env bash
# Contract check: run Schemathesis over every operation of the committed
# OpenAPI document (openapi/openapi.json) against a freshly started server.
#
#   tests/contract/run-schemathesis.sh [sqlite|postgres] [extra schemathesis run options...]
#
# Environment:
#   KH_SCHEMATHESIS_MAX_EXAMPLES  test cases per operation (default 100)
#   KH_SCHEMATHESIS_SEED          random seed (default 20261123)
#   KH_OPENAPI_SPEC               document to test (default <repo>/openapi/openapi.json)
#   plus what tests/support/server.sh reads (CARGO_TARGET_DIR, KEYHOLDER_BIN,
#   KEYHOLDER_TEST_POSTGRES_URL, KH_KEEP_WORKDIR).
# Reports (JUnit XML) go to ${CARGO_TARGET_DIR:-<repo>/target}/contract-artifacts/<backend>/.
set -euo pipefail

backend="${1:-sqlite}"
if [[ $# -gt 0 ]]; then shift; fi
case "$backend" in
    sqlite | postgres) ;;
    -h | --help)
        sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'
        exit 0
        ;;
    *)
        echo "usage: $0 [sqlite|postgres] [schemathesis run options...]" >&2
        exit 2
        ;;
esac

script_dir="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../support/server.sh
source "$script_dir/../support/server.sh"
cd "$KH_ROOT"

# The schemathesis command: on PATH, or the module of python3's (a pip
# install does not always put a new script on PATH, e.g. under pyenv).
find_schemathesis() {
    if command -v schemathesis >/dev/null 2>&1; then
        ST=(schemathesis)
    elif python3 -c 'import schemathesis.cli' >/dev/null 2>&1; then
        ST=(python3 -m schemathesis.cli)
    else
        return 1
    fi
}
if ! find_schemathesis; then
    echo "schemathesis not found; installing it with pip" >&2
    python3 -m pip install --quiet 'schemathesis>=4.32,<5'
    hash -r
    find_schemathesis || {
        echo "schemathesis is still missing after pip install" >&2
        exit 1
    }
fi
st_version="$("${ST[@]}" --version 2>&1 | grep -oE '[0-9]+\.[0-9]+\.[0-9]+' | head -n 1)"
if [[ "${st_version%%.*}" != 4 ]]; then
    echo "this script needs Schemathesis 4.x (found '${st_version:-unknown}'): pip install 'schemathesis>=4.32,<5'" >&2
    exit 1
fi

spec="${KH_OPENAPI_SPEC:-$KH_ROOT/openapi/openapi.json}"
artifacts="${CARGO_TARGET_DIR:-$KH_ROOT/target}/contract-artifacts/$backend"
mkdir -p "$artifacts"

kh_traps
kh_server_start "$backend"

if [[ ! -f "$spec" ]]; then
    if [[ "${CI:-false}" == true ]]; then
        echo "ERROR: $spec is missing; commit the document (keyholder openapi > openapi/openapi.json)" >&2
        exit 1
    fi
    # Only for a local tree where the document has not been committed yet.
    echo "WARNING: $spec is missing; testing the document the binary prints (keyholder openapi)" >&2
    spec="$KH_WORKDIR/openapi.json"
    "$KH_BIN" openapi >"$spec"
fi

run_schemathesis() {
    cd "$KH_WORKDIR"
    exec "${ST[@]}" "${color[@]}" run "$spec" \
        --url "$KH_BASE_URL" \
        -H "Authorization: Bearer $KH_TOKEN" \
        --checks all \
        --exclude-checks positive_data_acceptance \
        --max-examples "${KH_SCHEMATHESIS_MAX_EXAMPLES:-100}" \
        --seed "${KH_SCHEMATHESIS_SEED:-20261123}" \
        --generation-database none \
        --request-timeout 30 \
        --report junit \
        --report-junit-path "$artifacts/junit.xml" \
        "$@"
}

kh_register_user
echo "registered $KH_USERNAME; running schemathesis $st_version against $KH_BASE_URL with $spec" >&2

color=()
[[ -t 1 ]] || color=(--no-color)

# In the background + wait, so that a TERM/INT reaches the traps at once;
# in the workdir, where schemathesis may leave caches.
st_rc=0
kh_run_child run_schemathesis "$@" || st_rc=$?

if [[ $st_rc -ne 0 ]]; then
    echo "schemathesis ($backend) FAILED with exit code $st_rc; JUnit report: $artifacts/junit.xml" >&2
    kh_server_log_tail 30
    cp -f "$KH_SERVER_LOG" "$artifacts/server.log" 2>/dev/null || true
    exit "$st_rc"
fi
echo "schemathesis ($backend) passed" >&2
