#!/usr/bin/env bash
# Keyholder's HTTP benchmark: the framework's floor (../shared/bench/baseline,
# a bare actix-web JSON endpoint) and Keyholder on a seeded SQLite and/or
# PostgreSQL database, under the same wrk load in one run. Prints requests
# per second, the ratio to the floor measured in the same run, p50/p99,
# non-2xx answers, the server's memory after the load and its time to ready.
#
#   bench/run.sh                                # both databases, 1M assets + a 10k world
#   DB=sqlite SIZE=20000 SMALL=0 DURATION=3 bench/run.sh
#
# Environment:
#   DB=sqlite|postgres|both   databases to run on (both)
#   SIZE=1000000              assets in the world (users SIZE/100, invitations SIZE/10)
#   SMALL=10000               a second, small world for comparison; 0 skips it
#   SKIP_SEED=1               use the databases as they are (already seeded)
#   RESEED=1                  drop the databases first and seed them anew
#   DURATION=10               seconds of load per request (wrk -d)
#   THREADS=1 CONNECTIONS=64  wrk -t and -c
#   PG_ADMIN_URL=postgres://postgres@127.0.0.1:5432/postgres   where to create databases
#   PG_DB=keyholder_bench     PostgreSQL database of the 1M world (others: PG_DB_<size>)
#   DATA_DIR=bench/data       SQLite files (keyholder-<size>.db), logs, results (not in git)
#   SKIP_BUILD=1              use the release binary already built
#   FLOOR_BIN=path            a prebuilt floor binary (else built into FLOOR_TARGET_DIR)
#   BENCH_RUST_LOG=warn       the server's RUST_LOG during the load
#   CARGO_TARGET_DIR          honoured for the release build
#
# Servers listen on 127.0.0.1:18080 (Keyholder) and 127.0.0.1:18081 (floor);
# the script refuses to run when either port is taken, and stops every
# server it started when it exits.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DB=${DB:-both}
SIZE=${SIZE:-1000000}
SMALL=${SMALL:-10000}
SKIP_SEED=${SKIP_SEED:-0}
SKIP_BUILD=${SKIP_BUILD:-0}
RESEED=${RESEED:-0}
DURATION=${DURATION:-10}
THREADS=${THREADS:-1}
CONNECTIONS=${CONNECTIONS:-64}
PG_ADMIN_URL=${PG_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres}
PG_DB=${PG_DB:-keyholder_bench}
DATA_DIR=${DATA_DIR:-$ROOT/bench/data}
BENCH_RUST_LOG=${BENCH_RUST_LOG:-warn}
PASSWORD=${KEYHOLDER_SEED_PASSWORD:-bench-password-1}
PORT=18080
FLOOR_PORT=18081
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$ROOT/target}
FLOOR_TARGET_DIR=${FLOOR_TARGET_DIR:-$CARGO_TARGET_DIR/bench-floor}
FLOOR_DIR=${FLOOR_DIR:-$ROOT/../shared/bench/baseline}
BIN=$CARGO_TARGET_DIR/release/keyholder

say() { printf '%s\n' "$*" >&2; }
die() { say "bench: $*"; exit 1; }

case $DB in
    sqlite) DATABASES=(sqlite) ;;
    postgres) DATABASES=(postgres) ;;
    both) DATABASES=(sqlite postgres) ;;
    *) die "DB must be sqlite, postgres or both (got $DB)" ;;
esac
[[ $SIZE =~ ^[0-9]+$ && $SIZE -ge 200 ]] || die "SIZE must be a number of assets, at least 200"
[[ $SMALL =~ ^[0-9]+$ ]] || die "SMALL must be a number (0 to skip the small world)"
SIZES=("$SIZE")
if [[ $SMALL -gt 0 && $SMALL -ne $SIZE ]]; then
    [[ $SMALL -ge 200 ]] || die "SMALL must be 0 or at least 200"
    SIZES+=("$SMALL")
fi

# ---------------------------------------------------------------- tools
missing=()
for tool in wrk jq curl; do
    command -v "$tool" >/dev/null || missing+=("$tool")
done
if [[ " ${DATABASES[*]} " == *" postgres "* ]]; then
    command -v psql >/dev/null || missing+=(postgresql-client)
fi
if [[ ${#missing[@]} -gt 0 ]]; then
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        say "bench: installing ${missing[*]}"
        apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        die "missing tools: ${missing[*]} (apt-get install ${missing[*]})"
    fi
fi

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in $PORT $FLOOR_PORT; do
    if port_busy "$p"; then
        die "port $p is already in use (a stale keyholder or floor server?); stop it first"
    fi
done

mkdir -p "$DATA_DIR" "$DATA_DIR/mail" "$DATA_DIR/logs"

# ---------------------------------------------------------------- servers
PIDS=()
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        if kill -0 "$pid" 2>/dev/null; then
            kill "$pid" 2>/dev/null || true
            wait "$pid" 2>/dev/null || true
        fi
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

stop_server() {
    local pid=$1
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
}

now_ms() { echo $(($(date +%s%N) / 1000000)); }

# Waits until URL answers 200; prints the milliseconds it took from $2.
wait_ready() {
    local url=$1 started=$2 pid=$3 deadline=$(($(now_ms) + 300000))
    while true; do
        if curl -fs -o /dev/null "$url"; then
            echo $(($(now_ms) - started))
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || return 1
        [[ $(now_ms) -lt $deadline ]] || return 1
        sleep 0.05
    done
}

rss_of() {
    local pid=$1
    awk '/^VmHWM|^VmRSS/ {printf "%s %.0f MiB  ", $1, $2 / 1024}' "/proc/$pid/status"
}

# ---------------------------------------------------------------- build
if [[ $SKIP_BUILD != 1 ]]; then
    say "bench: building keyholder (release) into $CARGO_TARGET_DIR"
    (cd "$ROOT" && cargo build --release --quiet -p keyholder-api)
fi
[[ -x $BIN ]] || die "no release binary at $BIN"
if [[ -z ${FLOOR_BIN:-} && $SKIP_BUILD == 1 && -x $FLOOR_TARGET_DIR/release/baseline ]]; then
    FLOOR_BIN=$FLOOR_TARGET_DIR/release/baseline
fi
if [[ -z ${FLOOR_BIN:-} ]]; then
    [[ -f $FLOOR_DIR/Cargo.toml ]] || die "no floor at $FLOOR_DIR (set FLOOR_DIR or FLOOR_BIN)"
    say "bench: building the floor into $FLOOR_TARGET_DIR"
    CARGO_TARGET_DIR=$FLOOR_TARGET_DIR cargo build --release --quiet \
        --manifest-path "$FLOOR_DIR/Cargo.toml"
    FLOOR_BIN=$FLOOR_TARGET_DIR/release/baseline
fi
[[ -x $FLOOR_BIN ]] || die "the floor binary $FLOOR_BIN is missing"

BIND=127.0.0.1:$FLOOR_PORT "$FLOOR_BIN" >"$DATA_DIR/logs/floor.log" 2>&1 &
FLOOR_PID=$!
PIDS+=("$FLOOR_PID")
wait_ready "http://127.0.0.1:$FLOOR_PORT/asset" "$(now_ms)" "$FLOOR_PID" >/dev/null ||
    die "the floor did not start (see $DATA_DIR/logs/floor.log)"

# ---------------------------------------------------------------- wrk
# Runs wrk; prints "rps p50_ms p99_ms non2xx errors".
# With a third argument, each request is a POST of that JSON body.
load() {
    local url=$1 token=${2:-} body=${3:-} out
    local args=(-t"$THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency)
    if [[ -n $token ]]; then
        args+=(-H "Authorization: Bearer $token")
    fi
    if [[ -n $body ]]; then
        printf '%s\n' 'wrk.method = "POST"' 'wrk.body = os.getenv("BENCH_BODY")' \
            'wrk.headers["Content-Type"] = "application/json"' >"$DATA_DIR/post.lua"
        export BENCH_BODY=$body
        args+=(-s "$DATA_DIR/post.lua")
    fi
    out=$(wrk "${args[@]}" "$url" 2>&1) || { say "$out"; die "wrk failed on $url"; }
    printf '%s\n' "$out" >>"$DATA_DIR/logs/wrk.log"
    awk '
        function ms(v) {
            if (v ~ /us$/) { sub(/us$/, "", v); return v / 1000 }
            if (v ~ /ms$/) { sub(/ms$/, "", v); return v + 0 }
            if (v ~ /m$/)  { sub(/m$/, "", v);  return v * 60000 }
            if (v ~ /s$/)  { sub(/s$/, "", v);  return v * 1000 }
            return v + 0
        }
        /^ +50%/ { p50 = ms($2) }
        /^ +99%/ { p99 = ms($2) }
        /^Requests\/sec:/ { rps = $2 }
        /Non-2xx or 3xx responses:/ { bad = $NF }
        /Socket errors:/ { err = $0; sub(/.*Socket errors: */, "", err); gsub(/ /, "", err) }
        END { printf "%s %.2f %.2f %d %s\n", rps, p50, p99, bad + 0, (err == "" ? "-" : err) }
    ' <<<"$out"
}

api() {
    local method=$1 path=$2 token=${3:-} body=${4:-}
    local args=(-fsS -X "$method" -H 'Content-Type: application/json')
    if [[ -n $token ]]; then
        args+=(-H "Authorization: Bearer $token")
    fi
    if [[ -n $body ]]; then
        args+=(--data "$body")
    fi
    curl "${args[@]}" "http://127.0.0.1:$PORT$path"
}

login() {
    api POST /api/v1/auth/login '' "{\"login\":\"$1\",\"password\":\"$PASSWORD\"}" |
        jq -er .access_token
}

RESULTS=$DATA_DIR/results-$(date +%Y%m%d-%H%M%S).txt
SUMMARY=()

database_url() {
    local db=$1 size=$2
    case $db in
        sqlite) echo "sqlite://$DATA_DIR/keyholder-$size.db" ;;
        postgres) echo "${PG_ADMIN_URL%/*}/$(pg_name "$size")" ;;
    esac
}

# One database per size: PG_DB for a million assets, PG_DB_<size> otherwise.
pg_name() {
    if [[ $1 -eq 1000000 ]]; then echo "$PG_DB"; else echo "${PG_DB}_$1"; fi
}

prepare_database() {
    local db=$1 size=$2 name
    case $db in
        sqlite)
            if [[ $RESEED == 1 ]]; then
                rm -f "$DATA_DIR/keyholder-$size.db" "$DATA_DIR/keyholder-$size.db-wal" \
                    "$DATA_DIR/keyholder-$size.db-shm"
            fi
            ;;
        postgres)
            name=$(pg_name "$size")
            if [[ $RESEED == 1 ]]; then
                psql "$PG_ADMIN_URL" -qc "DROP DATABASE IF EXISTS $name WITH (FORCE)" >/dev/null
            fi
            if [[ -z $(psql "$PG_ADMIN_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'") ]]; then
                psql "$PG_ADMIN_URL" -qc "CREATE DATABASE $name" >/dev/null
            fi
            ;;
    esac
}

bench_world() {
    local db=$1 size=$2
    local users=$((size / 100 > 20 ? size / 100 : 20)) invitations=$((size / 10))
    local url seed_s="skipped" log=$DATA_DIR/logs/$db-$size
    url=$(database_url "$db" "$size")
    prepare_database "$db" "$size"
    local server_env=(
        KEYHOLDER_DATABASE_URL="$url"
        KEYHOLDER_BIND=127.0.0.1:$PORT
        KEYHOLDER_JWT_SECRET="$JWT_SECRET"
        KEYHOLDER_AUTH_RATE_LIMIT=0
        KEYHOLDER_ACTION_RATE_LIMIT=0
        KEYHOLDER_PASSWORD_RATE_LIMIT=0
        KEYHOLDER_MAIL_DIR="$DATA_DIR/mail"
        KEYHOLDER_LOG_FORMAT=json
    )
    if [[ $SKIP_SEED != 1 ]]; then
        say "bench: seeding $db with $size assets, $users users, $invitations invitations"
        local t0
        t0=$(now_ms)
        env "${server_env[@]}" RUST_LOG=warn "$BIN" seed --users "$users" --assets "$size" \
            --invitations "$invitations" --password "$PASSWORD" >"$log-seed.txt" ||
            die "the seed failed (see $log-seed.txt)"
        seed_s=$(awk -v ms=$(($(now_ms) - t0)) 'BEGIN { printf "%.1f s", ms / 1000 }')
        if grep -q '^already seeded' "$log-seed.txt"; then
            seed_s="already seeded"
        fi
    fi

    local t0 ready_ms pid
    t0=$(now_ms)
    env "${server_env[@]}" RUST_LOG="$BENCH_RUST_LOG" "$BIN" serve >"$log-server.log" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    ready_ms=$(wait_ready "http://127.0.0.1:$PORT/health/ready" "$t0" "$pid") ||
        die "keyholder did not get ready (see $log-server.log)"

    local owner20 admin inviter asset deep_path deep_label total cursor deep_page
    owner20=$(login seed-owner20) || die "cannot log in seed-owner20 (is $db seeded?)"
    admin=$(login seed-estate-admin) || die "cannot log in seed-estate-admin"
    inviter=$(login seed-inviter) || die "cannot log in seed-inviter"
    asset=$(api GET '/api/v1/assets?per_page=1' "$owner20" | jq -er '.items[0].id')
    # The admin reaches size/2 assets (the API may count totals only up to
    # a cap); the deep page is halfway down, at most page 1000.
    total=$((size / 2))
    deep_page=$((total / 20 / 2))
    if [[ $deep_page -gt 1000 ]]; then deep_page=1000; fi
    if [[ $deep_page -lt 2 ]]; then deep_page=2; fi
    # Keyset pagination when the API offers it: the cursor of the page
    # before the deep one; else the page number.
    cursor=$(api GET "/api/v1/assets?per_page=20&page=$((deep_page - 1))" "$admin" |
        jq -r '.next_cursor // empty')
    if [[ -n $cursor ]]; then
        deep_path="/api/v1/assets?per_page=20&cursor=$(jq -rn --arg c "$cursor" '$c | @uri')"
        deep_label="garage admin page $deep_page (cursor)"
    else
        deep_path="/api/v1/assets?per_page=20&page=$deep_page"
        deep_label="garage admin page $deep_page (offset)"
    fi

    local base="http://127.0.0.1:$PORT"
    local labels=(
        "floor GET /asset"
        "GET /health/live"
        "GET /api/v1/me"
        "GET /api/v1/assets/{id} (owner20)"
        "garage owner20 (20 assets) p1"
        "garage admin ($total assets) p1"
        "$deep_label"
        "asset-invitations p1 -invited_at"
        "asset-invitations/stats"
        "GET /api/v1/changes?limit=100 (admin)"
        "GET /api/v1/assets/{id}/files (owner20)"
        "POST /api/v1/assets (write, audited)"
        "GET /api/v1/changes after the writes"
    )
    local urls=(
        "http://127.0.0.1:$FLOOR_PORT/asset"
        "$base/health/live"
        "$base/api/v1/me"
        "$base/api/v1/assets/$asset"
        "$base/api/v1/assets?per_page=20"
        "$base/api/v1/assets?per_page=20"
        "$base$deep_path"
        "$base/api/v1/asset-invitations?per_page=20&sort=-invited_at"
        "$base/api/v1/asset-invitations/stats"
        "$base/api/v1/changes?limit=100"
        "$base/api/v1/assets/$asset/files"
        "$base/api/v1/assets"
        "$base/api/v1/changes?limit=100"
    )
    local tokens=("" "" "$owner20" "$owner20" "$owner20" "$admin" "$admin" "$inviter" "$inviter"
        "$admin" "$owner20" "$inviter" "$admin")
    # The writes go last (by a user whose garage is not measured): they add
    # assets and events to the world. The feed is read again after them: a
    # walk over the thousands of events they wrote, of which the estate
    # admin sees none.
    local bodies=("" "" "" "" "" "" "" "" "" "" "" '{"name":"Bench van"}' "")

    local header floor_rps="" i r rps p50 p99 bad err ratio
    header=$(printf '== %s, %s assets (%s users, %s invitations): seed %s, ready in %s ms\n' \
        "$db" "$size" "$users" "$invitations" "$seed_s" "$ready_ms")
    say "bench: $header"
    local table
    table=$(printf '%-40s %10s %8s %9s %9s %8s %s\n' request rps ratio "p50 ms" "p99 ms" non-2xx "socket errors")
    for i in "${!labels[@]}"; do
        say "bench: $db/$size: ${labels[$i]}"
        r=$(load "${urls[$i]}" "${tokens[$i]}" "${bodies[$i]}")
        read -r rps p50 p99 bad err <<<"$r"
        if [[ -z $floor_rps ]]; then floor_rps=$rps; fi
        ratio=$(awk -v a="$rps" -v b="$floor_rps" 'BEGIN { printf "%.3f", (b > 0 ? a / b : 0) }')
        table+=$'\n'$(printf '%-40s %10s %8s %9s %9s %8s %s' "${labels[$i]}" "$rps" "$ratio" "$p50" "$p99" "$bad" "$err")
    done
    local rss
    rss=$(rss_of "$pid")
    stop_server "$pid"
    local block
    block=$(printf '%s\n%s\nkeyholder memory after the load: %s\nfloor memory: %s\n' \
        "$header" "$table" "$rss" "$(rss_of "$FLOOR_PID")")
    printf '%s\n\n' "$block" | tee -a "$RESULTS"
    SUMMARY+=("$block")
}

JWT_SECRET=$(head -c 48 /dev/urandom | base64 | tr -d '\n')
{
    printf 'Keyholder benchmark %s on %s (%s cores): wrk -t%s -c%s -d%ss\n' \
        "$(date -u +%Y-%m-%dT%H:%M:%SZ)" "$(uname -n)" "$(nproc)" "$THREADS" "$CONNECTIONS" "$DURATION"
    printf 'ratio = requests per second over the floor measured just before, in the same run\n\n'
} | tee "$RESULTS"
for db in "${DATABASES[@]}"; do
    for size in "${SIZES[@]}"; do
        bench_world "$db" "$size"
    done
done
say "bench: results written to $RESULTS"
