#!/usr/bin/env bash
# The TypeScript client check: install the pinned tools (npm ci), generate
# src/schema.d.ts from openapi/openapi.json, type-check everything with
# `tsc --strict`, then run src/main.ts against a throw-away server on each
# database named (default: sqlite).
#
#   clients/typescript/run.sh [sqlite] [postgres]
#
# Reads what tests/support/server.sh reads (KEYHOLDER_BIN, CARGO_TARGET_DIR,
# KEYHOLDER_TEST_POSTGRES_URL, KH_KEEP_WORKDIR).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
backends=("$@")
[[ ${#backends[@]} -gt 0 ]] || backends=(sqlite)
for backend in "${backends[@]}"; do
    case "$backend" in
        sqlite | postgres) ;;
        *)
            echo "usage: $0 [sqlite] [postgres]" >&2
            exit 2
            ;;
    esac
done

# shellcheck source=../../tests/support/server.sh
source "$here/../../tests/support/server.sh"
cd "$here"

npm ci --no-audit --no-fund
npm run -s generate
npm run -s typecheck
echo "tsc --strict: src/schema.d.ts and the program type-check" >&2

kh_traps
for backend in "${backends[@]}"; do
    kh_server_start "$backend"
    echo "running src/main.ts against $KH_BASE_URL ($backend)" >&2
    kh_run_child env KEYHOLDER_BASE_URL="$KH_BASE_URL" KEYHOLDER_MAIL_DIR="$KH_MAIL_DIR" \
        timeout 120 node_modules/.bin/tsx src/main.ts
    kh_server_stop
done
