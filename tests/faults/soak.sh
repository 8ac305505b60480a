#!/usr/bin/env bash
# One-hour soak at moderate load (not in CI): RSS, open fds and database
# connections sampled every 30 s; fails on growth. See soak.py for settings.
#
#   bash tests/faults/soak.sh                 # SQLite, SOAK_SECONDS=3600
#   bash tests/faults/soak.sh --postgres      # PostgreSQL (throw-away database)
#   SOAK_SECONDS=180 bash tests/faults/soak.sh
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$HERE"
if ! python3 -c 'import requests' 2>/dev/null; then
    python3 -m pip install --quiet requests || exit 2
fi
export PYTHONDONTWRITEBYTECODE=1
export KEYHOLDER_BIN="${KEYHOLDER_BIN:-${CARGO_TARGET_DIR:-/work/keyholder-target}/debug/keyholder}"
exec python3 -u soak.py "$@"
