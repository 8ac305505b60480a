#!/usr/bin/env bash
# Keyholder under faults: every scenario of tests/faults/ but the soak, each
# in a child process with a hard time limit. Exits non-zero when any fails.
#
#   bash tests/faults/run.sh                      # all of them (about 5 minutes)
#   bash tests/faults/run.sh kill9:sqlite sigterm:postgres   # some of them
#
# Scenarios: pg-outage, smtp-outage[:sqlite|:postgres], kill9:sqlite,
# kill9:postgres, sigterm:sqlite, sigterm:postgres. See README.md.
#
# Environment: KEYHOLDER_BIN (default ${CARGO_TARGET_DIR:-/work/keyholder-target}/debug/keyholder;
# nothing is built here), KEYHOLDER_TEST_POSTGRES_URL (the shared server where
# kill9/sigterm on PostgreSQL make a throw-away database; a private cluster is
# used when it does not answer), FAULTS_SMTP_OUTAGE (seconds, default 60),
# FAULTS_KEEP=1 to keep temp folders, and the FAULTS_* settings in README.md.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"

if [[ $# -gt 0 ]]; then
    SCENARIOS=("$@")
else
    SCENARIOS=(pg-outage smtp-outage kill9:sqlite kill9:postgres sigterm:sqlite sigterm:postgres)
fi

say() { printf '[faults] %s\n' "$*"; }

# Prerequisites: requests (installed when missing), psql and the PostgreSQL
# server binaries for the private cluster, runuser and a `postgres` OS user.
if ! python3 -c 'import requests' 2>/dev/null; then
    say "installing requests"
    python3 -m pip install --quiet requests || exit 2
fi
BIN="${KEYHOLDER_BIN:-${CARGO_TARGET_DIR:-/work/keyholder-target}/debug/keyholder}"
if [[ ! -x "$BIN" ]]; then
    say "no keyholder binary at $BIN: build it first (cargo build -p keyholder-api) or set KEYHOLDER_BIN"
    exit 2
fi
export KEYHOLDER_BIN="$BIN"
export PYTHONDONTWRITEBYTECODE=1
PG_BIN="${FAULTS_PG_BIN:-/usr/lib/postgresql/15/bin}"
need_pg=false
for s in "${SCENARIOS[@]}"; do [[ "$s" == *postgres* || "$s" == pg-outage ]] && need_pg=true; done
if $need_pg; then
    command -v psql >/dev/null || { say "psql is missing (apt-get install postgresql-client)"; exit 2; }
    if [[ ! -x "$PG_BIN/initdb" ]]; then
        say "no initdb in $PG_BIN (apt-get install postgresql-15, or set FAULTS_PG_BIN)"
        exit 2
    fi
    id postgres >/dev/null 2>&1 || { say "no 'postgres' OS user to run the private cluster"; exit 2; }
fi

# Hard limits (seconds) per scenario; the scenario also has its own deadlines.
limit_for() {
    case "$1" in
        pg-outage) echo 240 ;;
        smtp-outage*) echo $((${FAULTS_SMTP_OUTAGE:-60} * 3 + 300)) ;;
        kill9*) echo 180 ;;
        sigterm*) echo 150 ;;
        *) echo 300 ;;
    esac
}

# What a scenario killed outright (timeout -k) could not undo itself: the
# servers it started (by pid), private clusters (by data folder) and
# throw-away databases, as it noted them in $FAULTS_STATE_DIR.
leftovers() {
    local state="$1" pid dir url db
    if [[ -f "$state/pids" ]]; then
        while read -r pid; do
            if kill -0 "$pid" 2>/dev/null; then
                say "stopping leftover server pid $pid"
                kill -KILL "$pid" 2>/dev/null || true
            fi
        done <"$state/pids"
    fi
    if [[ -f "$state/clusters" ]]; then
        while read -r dir; do
            if [[ -f "$dir/postmaster.pid" ]]; then
                say "stopping leftover PostgreSQL cluster $dir"
                runuser -u postgres -- "$PG_BIN/pg_ctl" -D "$dir" -m immediate -w stop >/dev/null 2>&1 || true
            fi
        done <"$state/clusters"
    fi
    if [[ -f "$state/databases" && "${FAULTS_KEEP:-0}" != 1 ]]; then
        while read -r url db; do
            psql "$url" -qAtc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true
        done <"$state/databases"
    fi
    rm -rf "$state"
}

NAMES=()
RESULTS=()
TIMES=()
FAILED=0
START=$SECONDS
for s in "${SCENARIOS[@]}"; do
    name="${s%%:*}"
    args=("$name")
    [[ "$s" == *:* ]] && args+=(--db "${s#*:}")
    case "$name" in
        pg-outage | smtp-outage | kill9 | sigterm) ;;
        *)
            say "unknown scenario '$s'"
            exit 2
            ;;
    esac
    limit="${FAULTS_TIME_LIMIT:-$(limit_for "$s")}"
    printf '\n==================== faults: %s (limit %ss) ====================\n' "$s" "$limit"
    t0=$SECONDS
    FAULTS_STATE_DIR="$(mktemp -d "${TMPDIR:-/tmp}/kh-faults-state.XXXXXX")"
    export FAULTS_STATE_DIR
    timeout -k 20 "$limit" python3 -u scenarios.py "${args[@]}"
    rc=$?
    if [[ $rc -eq 124 || $rc -eq 137 ]]; then
        say "$s did not finish within ${limit}s"
    fi
    leftovers "$FAULTS_STATE_DIR"
    NAMES+=("$s")
    TIMES+=($((SECONDS - t0)))
    if [[ $rc -eq 0 ]]; then
        RESULTS+=(pass)
    else
        RESULTS+=("FAIL ($rc)")
        FAILED=$((FAILED + 1))
    fi
done

printf '\n==================== faults: summary ====================\n'
for i in "${!NAMES[@]}"; do
    printf '  %-22s %-10s %4ss\n' "${NAMES[$i]}" "${RESULTS[$i]}" "${TIMES[$i]}"
done
printf '  %-22s %-10s %4ss\n' total "" $((SECONDS - START))
passed=$((${#NAMES[@]} - FAILED))
echo "faults: $passed passed, $FAILED failed"
[[ $FAILED -eq 0 ]]
