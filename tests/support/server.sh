# shellcheck shell=bash
# Start and stop a throw-away Keyholder server for the out-of-process checks
# (tests/contract/run-schemathesis.sh, tests/browser/run-swagger-check.sh,
# tests/browser/run-pages-check.sh).
#
# Source this file, then:
#   kh_server_start sqlite|postgres   # builds if needed, fresh database, free port
#   kh_register_user                  # sets KH_TOKEN, KH_USERNAME, KH_EMAIL, KH_PASSWORD
#   kh_verify_email EMAIL             # follows the emailed /verify-email link
#   kh_api METHOD PATH [TOKEN] [JSON] # one call; prints the body, fails unless 2xx
#   kh_mail_token EMAIL ROUTE         # the token of the newest emailed ROUTE#token= link
#   kh_server_stop                    # stops the server, drops the database, removes temp files
#
# After kh_server_start: KH_BASE_URL, KH_PORT, KH_WORKDIR, KH_SERVER_PID,
# KH_SERVER_LOG, KH_MAIL_DIR, KH_ROOT (the repository root) and KH_BIN are set.
# The server writes its emails as .eml files into KH_MAIL_DIR, and its links
# (KEYHOLDER_APP_URL) point at KH_BASE_URL.
#
# Environment it reads:
#   CARGO_TARGET_DIR             where cargo builds (default: <repo>/target)
#   KEYHOLDER_BIN                use this binary instead of building one
#   KEYHOLDER_TEST_POSTGRES_URL  an admin URL used to create and drop the
#                                database (default postgres://postgres@127.0.0.1:5432/postgres)
#   KH_KEEP_WORKDIR=1            keep the temp folder (server log, mail) afterwards

KH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
KH_SERVER_PID=""
KH_WORKDIR=""
KH_MAIL_DIR=""
KH_PG_ADMIN_URL=""
KH_PG_DB=""
# Fixed, test-only secret (>= 32 characters); never use it anywhere real.
KH_TEST_JWT_SECRET="keyholder-test-only-jwt-secret-0123456789abcdef"

kh_log() { printf '[server.sh] %s\n' "$*" >&2; }

# The keyholder binary: $KEYHOLDER_BIN, or a debug build (cargo does nothing
# when it is up to date).
kh_build() {
    if [[ -n "${KEYHOLDER_BIN:-}" ]]; then
        KH_BIN="$KEYHOLDER_BIN"
    else
        local target="${CARGO_TARGET_DIR:-$KH_ROOT/target}"
        kh_log "cargo build -p keyholder-api (target dir $target)"
        (cd "$KH_ROOT" && cargo build --quiet -p keyholder-api) || return 1
        KH_BIN="$target/debug/keyholder"
    fi
    if [[ ! -x "$KH_BIN" ]]; then
        kh_log "no executable at $KH_BIN"
        return 1
    fi
}

kh_free_port() {
    python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

# The admin URL with its database name replaced by $1 (query string kept).
kh_pg_url_for() {
    local db="$1" url="$KH_PG_ADMIN_URL" query=""
    if [[ "$url" == *\?* ]]; then
        query="?${url#*\?}"
        url="${url%%\?*}"
    fi
    local rest="${url#*://}"
    if [[ "$rest" == */* ]]; then
        url="${url%/*}"
    fi
    printf '%s/%s%s' "$url" "$db" "$query"
}

kh_server_start() {
    local backend="${1:-sqlite}"
    case "$backend" in
        sqlite | postgres) ;;
        *)
            kh_log "unknown backend '$backend' (sqlite|postgres)"
            return 2
            ;;
    esac
    kh_build || return 1

    KH_WORKDIR="$(mktemp -d "${TMPDIR:-/tmp}/keyholder-check.XXXXXX")"
    KH_SERVER_LOG="$KH_WORKDIR/server.log"
    KH_MAIL_DIR="$KH_WORKDIR/mail"
    mkdir -p "$KH_MAIL_DIR"

    local db_url
    if [[ "$backend" == sqlite ]]; then
        db_url="sqlite://$KH_WORKDIR/keyholder.db"
    else
        KH_PG_ADMIN_URL="${KEYHOLDER_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}"
        KH_PG_DB="kh_contract_$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')"
        if ! psql "$KH_PG_ADMIN_URL" -v ON_ERROR_STOP=1 -qAtc "CREATE DATABASE $KH_PG_DB" >/dev/null; then
            kh_log "could not create PostgreSQL database $KH_PG_DB via $KH_PG_ADMIN_URL"
            KH_PG_DB=""
            return 1
        fi
        kh_log "created PostgreSQL database $KH_PG_DB"
        db_url="$(kh_pg_url_for "$KH_PG_DB")"
    fi

    local attempt
    for attempt in 1 2 3; do
        KH_PORT="$(kh_free_port)"
        KH_BASE_URL="http://127.0.0.1:$KH_PORT"
        kh_log "starting $KH_BIN on $KH_BASE_URL ($backend), log $KH_SERVER_LOG"
        (
            cd "$KH_WORKDIR" || exit 1
            exec env \
                KEYHOLDER_DATABASE_URL="$db_url" \
                KEYHOLDER_BIND="127.0.0.1:$KH_PORT" \
                KEYHOLDER_JWT_SECRET="$KH_TEST_JWT_SECRET" \
                KEYHOLDER_MAIL_DIR="$KH_MAIL_DIR" \
                KEYHOLDER_AUTH_RATE_LIMIT=0 \
                KEYHOLDER_APP_URL="$KH_BASE_URL" \
                KEYHOLDER_LOG_FORMAT=pretty \
                RUST_LOG="${RUST_LOG:-info}" \
                NO_COLOR=1 \
                "$KH_BIN" serve
        ) >>"$KH_SERVER_LOG" 2>&1 &
        KH_SERVER_PID=$!

        local i
        for ((i = 0; i < 300; i++)); do # up to 60 s (first start migrates)
            if ! kill -0 "$KH_SERVER_PID" 2>/dev/null; then
                break
            fi
            if curl -fsS -o /dev/null --max-time 2 "$KH_BASE_URL/health/ready" 2>/dev/null; then
                kh_log "ready after ~$((i / 5)) s (pid $KH_SERVER_PID)"
                return 0
            fi
            sleep 0.2
        done
        if kill -0 "$KH_SERVER_PID" 2>/dev/null; then
            kh_log "server did not become ready within 60 s"
            kh_server_log_tail
            return 1
        fi
        wait "$KH_SERVER_PID" 2>/dev/null || true
        KH_SERVER_PID=""
        # Lost the race for the port to someone else: try another one.
        if grep -qi 'address already in use\|AddrInUse' "$KH_SERVER_LOG"; then
            kh_log "port $KH_PORT was taken, retrying (attempt $attempt)"
            continue
        fi
        kh_log "server exited before becoming ready"
        kh_server_log_tail
        return 1
    done
    return 1
}

kh_server_log_tail() {
    if [[ -n "$KH_SERVER_LOG" && -f "$KH_SERVER_LOG" ]]; then
        kh_log "last lines of $KH_SERVER_LOG:"
        tail -n "${1:-40}" "$KH_SERVER_LOG" >&2
    fi
}

# Register a fresh user; sets KH_TOKEN, KH_USERNAME, KH_EMAIL, KH_PASSWORD.
kh_register_user() {
    local suffix
    suffix="$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
    KH_USERNAME="contract_$suffix"
    KH_EMAIL="contract-$suffix@example.com"
    KH_PASSWORD="contract-password-$suffix"
    local body
    body="$(curl -fsS --max-time 20 -X POST "$KH_BASE_URL/api/v1/auth/register" \
        -H 'Content-Type: application/json' \
        -d "{\"email\":\"$KH_EMAIL\",\"username\":\"$KH_USERNAME\",\"password\":\"$KH_PASSWORD\",\"display_name\":\"Contract Tester\"}")" || {
        kh_log "registering a user failed"
        return 1
    }
    KH_TOKEN="$(printf '%s' "$body" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')" || {
        kh_log "no access_token in the register response: $body"
        return 1
    }
    [[ -n "$KH_TOKEN" ]]
}

# One API call: kh_api METHOD PATH [TOKEN] [JSON]; prints the answer's body,
# fails (with the status and body on stderr) unless the status is 2xx.
kh_api() {
    local method="$1" path="$2" token="${3:-}" json="${4:-}" out status
    local args=(-sS --max-time 30 -X "$method" -o "$KH_WORKDIR/kh_api.body" -w '%{http_code}')
    [[ -n "$token" ]] && args+=(-H "Authorization: Bearer $token")
    [[ -n "$json" ]] && args+=(-H 'Content-Type: application/json' -d "$json")
    status="$(curl "${args[@]}" "$KH_BASE_URL$path")" || return 1
    out="$(cat "$KH_WORKDIR/kh_api.body")"
    if [[ "$status" != 2* ]]; then
        kh_log "$method $path answered $status: $out"
        return 1
    fi
    printf '%s' "$out"
}

# Waits (up to 20 s) for an email to $1 holding a `<route>#token=` link
# ($2: /verify-email, /reset-password or /invitations/accept) and prints the
# token of the newest one.
kh_mail_token() {
    python3 - "$KH_MAIL_DIR" "$1" "$2" <<'PY'
import email, email.policy, os, re, sys, time
folder, to, route = sys.argv[1:]
link = re.compile(re.escape(route) + r"#token=([A-Za-z0-9_-]+)")
deadline = time.time() + 20
while time.time() < deadline:
    names = [os.path.join(folder, n) for n in os.listdir(folder) if n.endswith(".eml")]
    for name in sorted(names, key=os.path.getmtime, reverse=True):
        with open(name, "rb") as f:
            mail = email.message_from_binary_file(f, policy=email.policy.default)
        if to.lower() not in str(mail["To"]).lower():
            continue
        for part in mail.walk():
            if part.get_content_maintype() == "text":
                found = link.search(part.get_content())
                if found:
                    print(found.group(1))
                    sys.exit(0)
    time.sleep(0.2)
sys.exit(f"no email to {to} with a {route}#token= link in {folder}")
PY
}

# Confirms the email address $1 with the link the server mailed to it.
kh_verify_email() {
    local token
    token="$(kh_mail_token "$1" /verify-email)" || return 1
    kh_api POST /api/v1/auth/verify-email "" "{\"token\":\"$token\"}" >/dev/null
}

# Idempotent; safe to call from an EXIT trap.
kh_server_stop() {
    if [[ -n "$KH_SERVER_PID" ]]; then
        if kill -0 "$KH_SERVER_PID" 2>/dev/null; then
            kill -TERM "$KH_SERVER_PID" 2>/dev/null || true
            local i
            for ((i = 0; i < 50; i++)); do
                kill -0 "$KH_SERVER_PID" 2>/dev/null || break
                sleep 0.2
            done
            if kill -0 "$KH_SERVER_PID" 2>/dev/null; then
                kh_log "server did not stop in 10 s; sending SIGKILL"
                kill -KILL "$KH_SERVER_PID" 2>/dev/null || true
            fi
        fi
        wait "$KH_SERVER_PID" 2>/dev/null || true
        KH_SERVER_PID=""
    fi
    if [[ -n "$KH_PG_DB" ]]; then
        if psql "$KH_PG_ADMIN_URL" -qAtc "DROP DATABASE IF EXISTS $KH_PG_DB WITH (FORCE)" >/dev/null; then
            kh_log "dropped PostgreSQL database $KH_PG_DB"
        else
            kh_log "could not drop PostgreSQL database $KH_PG_DB"
        fi
        KH_PG_DB=""
    fi
    if [[ -n "$KH_WORKDIR" && -d "$KH_WORKDIR" ]]; then
        if [[ "${KH_KEEP_WORKDIR:-0}" == 1 ]]; then
            kh_log "kept $KH_WORKDIR"
        else
            rm -rf "$KH_WORKDIR"
        fi
        KH_WORKDIR=""
        KH_MAIL_DIR=""
    fi
}

# Sets the traps of a check script: on any exit the child started by
# kh_run_child is stopped, then `kh_on_failure` (if the script defines it)
# runs when the exit is a failure, then the server is stopped.
KH_CHILD_PID=""
kh_cleanup() {
    local rc=$?
    if [[ -n "$KH_CHILD_PID" ]] && kill -0 "$KH_CHILD_PID" 2>/dev/null; then
        kill -TERM "$KH_CHILD_PID" 2>/dev/null || true
        wait "$KH_CHILD_PID" 2>/dev/null || true
    fi
    if [[ $rc -ne 0 ]] && declare -F kh_on_failure >/dev/null; then
        kh_on_failure || true
    fi
    kh_server_stop
    exit "$rc"
}
kh_traps() {
    trap kh_cleanup EXIT
    trap 'exit 130' INT
    trap 'exit 143' TERM
}

# Runs "$@" in the background and waits for it, so that a TERM/INT reaches
# the traps at once; returns its exit code.
kh_run_child() {
    local rc=0
    "$@" &
    KH_CHILD_PID=$!
    wait "$KH_CHILD_PID" || rc=$?
    KH_CHILD_PID=""
    return "$rc"
}
